package dev.rudder.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** The JSON objects of OpenAI's chat and text completion responses and stream chunks, plus the {@code rudder} field. */
final class OpenAiResponses {
    static final ObjectMapper JSON = new ObjectMapper();

    private final OpenAiRequest.Endpoint endpoint;
    private final String id;
    private final long created = System.currentTimeMillis() / 1000;
    private final String model;
    private final String profile;

    OpenAiResponses(OpenAiRequest.Endpoint endpoint, String id, String model, String profile) {
        this.endpoint = endpoint;
        this.id = id;
        this.model = model;
        this.profile = profile;
    }

    /** The whole answer (stream false). */
    ObjectNode complete(String text, JobEvent.Done done) {
        ObjectNode o = head(endpoint.object);
        ObjectNode choice = o.putArray("choices").addObject();
        choice.put("index", 0);
        if (endpoint == OpenAiRequest.Endpoint.CHAT) {
            ObjectNode msg = choice.putObject("message");
            msg.put("role", "assistant");
            msg.put("content", text);
        } else {
            choice.put("text", text);
        }
        choice.putNull("logprobs");
        choice.put("finish_reason", done.reason().wire);
        o.set("usage", usage(done));
        o.set("rudder", rudder(done));
        return o;
    }

    /** A stream chunk carrying text; {@code first} also names the role (chat). */
    ObjectNode textChunk(String text, boolean first) {
        ObjectNode o = head(chunkObject());
        ObjectNode choice = o.putArray("choices").addObject();
        choice.put("index", 0);
        if (endpoint == OpenAiRequest.Endpoint.CHAT) {
            ObjectNode delta = choice.putObject("delta");
            if (first) {
                delta.put("role", "assistant");
            }
            delta.put("content", text);
        } else {
            choice.put("text", text);
        }
        choice.putNull("logprobs");
        choice.putNull("finish_reason");
        return o;
    }

    /** The chunk that ends the choice: finish_reason and the rudder field. */
    ObjectNode finalChunk(JobEvent.Done done) {
        ObjectNode o = head(chunkObject());
        ObjectNode choice = o.putArray("choices").addObject();
        choice.put("index", 0);
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
    ObjectNode usageChunk(JobEvent.Done done) {
        ObjectNode o = head(chunkObject());
        o.putArray("choices");
        o.set("usage", usage(done));
        o.set("rudder", rudder(done));
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

    private static ObjectNode usage(JobEvent.Done done) {
        ObjectNode u = JSON.createObjectNode();
        u.put("prompt_tokens", done.promptTokens());
        u.put("completion_tokens", done.completionTokens());
        u.put("total_tokens", done.promptTokens() + done.completionTokens());
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
