package dev.rudder.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The JSON objects of OpenAI's chat and text completion responses and stream chunks, plus the {@code rudder} field. */
final class OpenAiResponses {
    static final ObjectMapper JSON = new ObjectMapper();

    private final OpenAiRequest.Endpoint endpoint;
    private final String id;
    private final long created = System.currentTimeMillis() / 1000;
    private final String model;
    private final String profile;
    private final boolean logprobs;   // whether the request asked for log-probabilities
    private final int perPrompt;      // answers per prompt (n): choices p * n .. p * n + n - 1 share prompt p
    private final Map<Integer, Integer> textOffsets = new HashMap<>();   // completions' text_offset per choice: characters before its next token

    OpenAiResponses(OpenAiRequest.Endpoint endpoint, String id, String model, String profile, boolean logprobs, int perPrompt) {
        this.endpoint = endpoint;
        this.id = id;
        this.model = model;
        this.profile = profile;
        this.logprobs = logprobs;
        this.perPrompt = perPrompt;
    }

    /**
     * The whole answer (stream false): one choice per generated answer, with the log-probabilities of its tokens if
     * asked for; usage counts each prompt once and every answer's tokens; the rudder field is the first answer's (the
     * gate decides on the prompt: the same for all answers to it).
     */
    ObjectNode complete(List<String> texts, List<List<TokenLogprob>> tokens, List<JobEvent.Done> done) {
        ObjectNode o = head(endpoint.object);
        ArrayNode choices = o.putArray("choices");
        for (int i = 0; i < texts.size(); i++) {
            ObjectNode choice = choices.addObject();
            choice.put("index", i);
            if (endpoint == OpenAiRequest.Endpoint.CHAT) {
                ObjectNode msg = choice.putObject("message");
                msg.put("role", "assistant");
                msg.put("content", texts.get(i));
            } else {
                choice.put("text", texts.get(i));
            }
            putLogprobs(choice, i, tokens.get(i));
            choice.put("finish_reason", done.get(i).reason().wire);
        }
        o.set("usage", usage(done));
        o.set("rudder", rudder(done.get(0)));
        return o;
    }

    /** A stream chunk carrying text of choice {@code index} and its tokens' log-probabilities if asked for; {@code first} also names the role (chat). */
    ObjectNode textChunk(int index, String text, List<TokenLogprob> tokens, boolean first) {
        ObjectNode o = head(chunkObject());
        ObjectNode choice = o.putArray("choices").addObject();
        choice.put("index", index);
        if (endpoint == OpenAiRequest.Endpoint.CHAT) {
            ObjectNode delta = choice.putObject("delta");
            if (first) {
                delta.put("role", "assistant");
            }
            delta.put("content", text);
        } else {
            choice.put("text", text);
        }
        putLogprobs(choice, index, tokens);
        choice.putNull("finish_reason");
        return o;
    }

    /** The chunk that ends choice {@code index}: finish_reason and the rudder field. */
    ObjectNode finalChunk(int index, JobEvent.Done done) {
        ObjectNode o = head(chunkObject());
        ObjectNode choice = o.putArray("choices").addObject();
        choice.put("index", index);
        if (endpoint == OpenAiRequest.Endpoint.CHAT) {
            choice.putObject("delta");
        } else {
            choice.put("text", "");
        }
        choice.putNull("logprobs");
        choice.put("finish_reason", done.reason().wire);
        o.set("rudder", rudder(done));
        return o;
    }

    /** The extra last chunk asked for by stream_options.include_usage: no choices, usage (and rudder again). */
    ObjectNode usageChunk(List<JobEvent.Done> done) {
        ObjectNode o = head(chunkObject());
        o.putArray("choices");
        o.set("usage", usage(done));
        o.set("rudder", rudder(done.get(0)));
        return o;
    }

    static ObjectNode error(ApiException e) {
        ObjectNode o = JSON.createObjectNode();
        ObjectNode err = o.putObject("error");
        err.put("message", e.getMessage());
        err.put("type", e.type);
        if (e.param == null) {
            err.putNull("param");
        } else {
            err.put("param", e.param);
        }
        err.putNull("code");
        return o;
    }

    static ObjectNode models(String model, long created, Iterable<String> profiles) {
        ObjectNode o = JSON.createObjectNode();
        o.put("object", "list");
        o.putArray("data").add(model(model, created, profiles));
        return o;
    }

    /** One model object (GET /v1/models/{id}); {@code rudder.profiles} lists the steering profiles. */
    static ObjectNode model(String model, long created, Iterable<String> profiles) {
        ObjectNode m = JSON.createObjectNode();
        m.put("id", model);
        m.put("object", "model");
        m.put("created", created);
        m.put("owned_by", "rudder");
        ArrayNode names = m.putObject("rudder").putArray("profiles");
        profiles.forEach(names::add);
        return m;
    }

    /**
     * {@code choice.logprobs}: null when not asked for; chat: {@code {content: [{token, logprob, bytes, top_logprobs}],
     * refusal: null}}; completions: {@code {tokens, token_logprobs, top_logprobs: [{text: logprob}], text_offset}},
     * offsets counted in characters of the tokens' texts from the start of the choice (its echoed prompt included)
     * across a stream's chunks; an echoed prompt's first token has null for its logprob and alternatives.
     */
    private void putLogprobs(ObjectNode choice, int index, List<TokenLogprob> tokens) {
        if (!logprobs) {
            choice.putNull("logprobs");
            return;
        }
        ObjectNode lp = choice.putObject("logprobs");
        if (endpoint == OpenAiRequest.Endpoint.CHAT) {
            ArrayNode content = lp.putArray("content");
            for (TokenLogprob t : tokens) {
                ObjectNode c = token(content.addObject(), t.text(), t.logprob());
                ArrayNode top = c.putArray("top_logprobs");
                for (TokenLogprob.Alternative a : t.top()) {
                    token(top.addObject(), a.text(), a.logprob());
                }
            }
            lp.putNull("refusal");
            return;
        }
        ArrayNode texts = lp.putArray("tokens");
        ArrayNode values = lp.putArray("token_logprobs");
        ArrayNode tops = lp.putArray("top_logprobs");
        ArrayNode offsets = lp.putArray("text_offset");
        for (TokenLogprob t : tokens) {
            texts.add(t.text());
            int at = textOffsets.getOrDefault(index, 0);
            offsets.add(at);
            textOffsets.put(index, at + t.text().length());
            if (t.top() == null) {   // an echoed prompt's first token: nothing predicts it
                values.addNull();
                tops.addNull();
                continue;
            }
            values.add(t.logprob());
            ObjectNode top = tops.addObject();
            for (TokenLogprob.Alternative a : t.top()) {
                if (!top.has(a.text())) {   // two ids with the same text: the likelier one stands for both
                    top.put(a.text(), a.logprob());
                }
            }
        }
    }

    /** {@code token}, {@code logprob} and {@code bytes} (its UTF-8; null for a piece of a character, shown as U+FFFD). */
    private static ObjectNode token(ObjectNode o, String text, double logprob) {
        o.put("token", text);
        o.put("logprob", logprob);
        if (text.indexOf('\uFFFD') >= 0) {
            o.putNull("bytes");
        } else {
            ArrayNode bytes = o.putArray("bytes");
            for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
                bytes.add(b & 0xFF);
            }
        }
        return o;
    }

    private String chunkObject() {
        return endpoint == OpenAiRequest.Endpoint.CHAT ? "chat.completion.chunk" : "text_completion";
    }

    private ObjectNode head(String object) {
        ObjectNode o = JSON.createObjectNode();
        o.put("id", id);
        o.put("object", object);
        o.put("created", created);
        o.put("model", model);
        o.putNull("system_fingerprint");
        return o;
    }

    /** Every answer's tokens, each prompt's once ({@code done} in choice order, or in any order when all share one prompt). */
    private ObjectNode usage(List<JobEvent.Done> done) {
        int completion = 0;
        int prompt = 0;
        for (int c = 0; c < done.size(); c++) {
            completion += done.get(c).completionTokens();
            prompt += c % perPrompt == 0 ? done.get(c).promptTokens() : 0;
        }
        ObjectNode u = JSON.createObjectNode();
        u.put("prompt_tokens", prompt);
        u.put("completion_tokens", completion);
        u.put("total_tokens", prompt + completion);
        return u;
    }

    private ObjectNode rudder(JobEvent.Done done) {
        ObjectNode r = JSON.createObjectNode();
        r.put("profile", profile);
        if (done.gateOpen() == null) {
            r.putNull("gate_open");
            r.putNull("gate_score");
        } else {
            r.put("gate_open", done.gateOpen());
            r.put("gate_score", done.gateScore());
        }
        return r;
    }
}
