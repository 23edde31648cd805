package dev.rudder.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rudder.ChatMessage;
import dev.rudder.Rudder;
import dev.rudder.runtime.sample.SamplerOptions;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A parsed body of {@code POST /v1/chat/completions} or {@code /v1/completions}: OpenAI's fields
 * plus the sampling options of {@code rudder generate} ({@code top_k}, {@code min_p},
 * {@code repetition_penalty}, {@code ignore_eos}) and {@code "rudder": {"profile": NAME}}.
 * Every problem is a 400 naming the field. {@code logprobs}: how many alternatives come with each
 * generated token's log-probability, {@code -1} when the request asked for none; {@code n}: how many
 * answers (choices) to generate for each prompt. Completions take several prompts (an array of strings
 * or of token-id arrays: choices {@code p * n + i}); with {@code echo} each answer starts with its
 * prompt ({@code echoes}: the text to repeat per prompt, empty without echo) and, with logprobs, the
 * prompt tokens' log-probabilities. {@code maxTokens} is at most the room each prompt leaves in the
 * context, and 0 only with echo.
 */
record OpenAiRequest(Endpoint endpoint, List<int[]> prompts, SamplerOptions sampling, int maxTokens, boolean ignoreEos,
                     List<String> stop, SteeringProfiles.Profile profile, boolean stream, boolean includeUsage,
                     int logprobs, int n, List<String> echoes, LogitBias logitBias) {

    /** Prompt positions times vocabulary entries an echo with logprobs may hold at once (256 MB of logits). */
    static final long MAX_PROMPT_LOGITS = 64L << 20;

    /** Most choices one request may ask for. */
    static final int MAX_N = 16;

    enum Endpoint {
        CHAT("chat.completion", "chatcmpl-"), COMPLETIONS("text_completion", "cmpl-");

        final String object;
        final String idPrefix;

        Endpoint(String object, String idPrefix) {
            this.object = object;
            this.idPrefix = idPrefix;
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> ROLES = Set.of("system", "user", "assistant");

    /** Parses and tokenizes; the prompt must leave room for at least one new token within {@code options.context()}. */
    static OpenAiRequest parse(Endpoint endpoint, String body, Rudder rudder, SteeringProfiles profiles, ServerOptions options) {
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (JsonProcessingException e) {
            throw ApiException.badRequest(null, "the request body is not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw ApiException.badRequest(null, "the request body must be a JSON object");
        }
        rejectUnsupported(root);
        boolean echo = bool(root, "echo");
        if (echo && endpoint == Endpoint.CHAT) {
            throw ApiException.badRequest("echo", "echo is not supported on chat completions");
        }
        List<String> texts = new ArrayList<>();   // per prompt: its text as given, or its ids decoded
        List<int[]> prompts = endpoint == Endpoint.CHAT ? List.of(chatPrompt(root, rudder)) : completionPrompts(root, rudder, texts);
        String field = endpoint == Endpoint.CHAT ? "messages" : "prompt";
        Integer asked = optInt(root, "max_completion_tokens");
        if (asked == null) {
            asked = optInt(root, "max_tokens");
        }
        if (asked != null && asked < (echo ? 0 : 1)) {
            throw ApiException.badRequest("max_tokens", "max_tokens must be at least " + (echo ? "0 (with echo)" : "1")
                    + ", got " + asked);
        }
        int logprobs = logprobs(endpoint, root);
        int room = Integer.MAX_VALUE;
        for (int[] prompt : prompts) {
            if (prompt.length == 0) {
                throw ApiException.badRequest(field, "the prompt is empty");
            }
            room = Math.min(room, options.context() - prompt.length);
            if (room < (asked != null && asked == 0 ? 0 : 1)) {
                throw ApiException.badRequest(field, "the prompt has " + prompt.length + " tokens, which leaves no room to"
                        + " generate in the server's context of " + options.context() + " tokens");
            }
            if (echo && logprobs >= 0 && (long) prompt.length * rudder.config().vocabSize() > MAX_PROMPT_LOGITS) {
                throw ApiException.badRequest("echo", "echo with logprobs keeps the logits of every prompt position: at most "
                        + MAX_PROMPT_LOGITS / rudder.config().vocabSize() + " prompt tokens for this model's vocabulary of "
                        + rudder.config().vocabSize() + ", got " + prompt.length);
            }
        }
        int maxTokens = asked == null ? room : Math.min(asked, room);
        Long seed = root.hasNonNull("seed") ? integral(root, "seed") : null;
        SamplerOptions sampling = new SamplerOptions(
                (float) range(root, "temperature", 1.0, 0, 2),
                (int) (root.hasNonNull("top_k") ? Math.max(0, integral(root, "top_k")) : 0),
                (float) range(root, "top_p", 1.0, Double.MIN_VALUE, 1),
                (float) range(root, "min_p", 0.0, 0, 1),
                (float) range(root, "repetition_penalty", 1.0, Double.MIN_VALUE, 100),
                seed != null ? seed : ThreadLocalRandom.current().nextLong());
        boolean stream = bool(root, "stream");
        boolean includeUsage = stream && root.path("stream_options").path("include_usage").asBoolean(false);
        return new OpenAiRequest(endpoint, prompts, sampling, maxTokens, bool(root, "ignore_eos"), stops(root),
                profile(root, profiles, options), stream, includeUsage, logprobs, choices(root, options, prompts.size()),
                echo ? texts : List.of(), logitBias(root, rudder.config().vocabSize()));
    }

    /** {@code logit_bias}: an object from token ids (as strings, OpenAI's form) to numbers from -100 to 100. */
    private static LogitBias logitBias(JsonNode root, int vocab) {
        JsonNode b = root.get("logit_bias");
        if (b == null || b.isNull()) {
            return LogitBias.NONE;
        }
        if (!b.isObject()) {
            throw ApiException.badRequest("logit_bias", "logit_bias must be an object from token ids to numbers");
        }
        int[] ids = new int[b.size()];
        float[] values = new float[b.size()];
        int i = 0;
        for (var it = b.fields(); it.hasNext(); i++) {
            var e = it.next();
            int id;
            try {
                id = Integer.parseInt(e.getKey().trim());
            } catch (NumberFormatException nf) {
                id = -1;
            }
            if (id < 0 || id >= vocab) {
                throw ApiException.badRequest("logit_bias", "logit_bias keys must be token ids in 0.." + (vocab - 1)
                        + ", got '" + e.getKey() + "'");
            }
            if (!e.getValue().isNumber() || Math.abs(e.getValue().asDouble()) > 100) {
                throw ApiException.badRequest("logit_bias", "logit_bias values must be numbers from -100 to 100, got "
                        + e.getValue() + " for token " + id);
            }
            ids[i] = id;
            values[i] = (float) e.getValue().asDouble();
        }
        return new LogitBias(ids, values);
    }

    /**
     * {@code n}: 1 to {@link #MAX_N} answers per prompt, and no more answers in all than {@link #MAX_N} and than the
     * server can hold in flight at once.
     */
    private static int choices(JsonNode root, ServerOptions options, int prompts) {
        long n = root.hasNonNull("n") ? integral(root, "n") : 1;
        int most = Math.min(MAX_N, options.maxConcurrent() + options.queue());
        if (n < 1 || n * prompts > most) {
            String what = prompts == 1 ? "n" : "n times the " + prompts + " prompts";
            throw ApiException.badRequest(prompts == 1 ? "n" : "prompt", what + " must be between 1 and " + most + ", got "
                    + n * prompts + (most < MAX_N ? " (the server runs --max-concurrent + --queue = " + most + " at once)" : ""));
        }
        return (int) n;
    }

    /**
     * Chat: {@code logprobs} true or false and {@code top_logprobs} 0-20 (only with logprobs true); completions
     * (the legacy API): {@code logprobs} 0-20, the number of alternatives. {@code -1} when none was asked for.
     */
    private static int logprobs(Endpoint endpoint, JsonNode root) {
        JsonNode lp = root.get("logprobs");
        if (endpoint == Endpoint.CHAT) {
            boolean on = bool(root, "logprobs");
            if (!root.hasNonNull("top_logprobs")) {
                return on ? 0 : -1;
            }
            if (!on) {
                throw ApiException.badRequest("top_logprobs", "top_logprobs needs logprobs: true");
            }
            return alternatives(root, "top_logprobs");
        }
        if (lp == null || lp.isNull() || (lp.isBoolean() && !lp.asBoolean())) {
            return -1;
        }
        return lp.isBoolean() ? 0 : alternatives(root, "logprobs");
    }

    private static int alternatives(JsonNode root, String field) {
        long n = integral(root, field);
        if (n < 0 || n > TokenLogprob.MAX_TOP) {
            throw ApiException.badRequest(field, field + " must be between 0 and " + TokenLogprob.MAX_TOP + ", got " + n);
        }
        return (int) n;
    }

    private static void rejectUnsupported(JsonNode root) {
        for (String f : List.of("frequency_penalty", "presence_penalty")) {
            if (root.hasNonNull(f) && root.get(f).asDouble(1) != 0) {
                throw ApiException.badRequest(f, f + " is not supported; use repetition_penalty");
            }
        }
        if ((root.hasNonNull("best_of") && root.get("best_of").asInt(-1) != 1)
                || (root.hasNonNull("suffix") && !root.get("suffix").asText().isEmpty())) {
            throw ApiException.badRequest("best_of", "best_of > 1 and suffix are not supported");
        }
        for (String f : List.of("tools", "functions")) {   // functions: the API's older name for tools
            if (root.hasNonNull(f) && !root.get(f).isEmpty()) {
                throw ApiException.badRequest(f, f + " are not supported");
            }
        }
        if (root.has("response_format") && !root.path("response_format").path("type").asText("text").equals("text")) {
            throw ApiException.badRequest("response_format", "only text responses are supported");
        }
    }

    private static int[] chatPrompt(JsonNode root, Rudder rudder) {
        JsonNode msgs = root.get("messages");
        if (msgs == null || !msgs.isArray() || msgs.isEmpty()) {
            throw ApiException.badRequest("messages", "messages must be a non-empty array of {role, content}");
        }
        List<ChatMessage> out = new ArrayList<>();
        for (int i = 0; i < msgs.size(); i++) {
            JsonNode m = msgs.get(i);
            String where = "messages[" + i + "]";
            String role = m.path("role").asText("");
            if (!ROLES.contains(role)) {
                throw ApiException.badRequest(where + ".role", where + ".role must be system, user or assistant, got '" + role + "'");
            }
            out.add(new ChatMessage(role, content(m.get("content"), where + ".content")));
        }
        try {
            return toArray(rudder.encodeChat(out).tokenIds());
        } catch (RuntimeException e) {
            throw ApiException.badRequest("messages", "cannot apply the model's chat template: " + e.getMessage());
        }
    }

    /** A string, or an array of {"type": "text", "text": ...} parts joined. */
    private static String content(JsonNode c, String where) {
        if (c != null && c.isTextual()) {
            return c.asText();
        }
        if (c != null && c.isArray()) {
            StringBuilder b = new StringBuilder();
            for (JsonNode part : c) {
                if (!"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
                    throw ApiException.badRequest(where, where + ": only text parts {\"type\": \"text\", \"text\": ...} are supported");
                }
                b.append(part.get("text").asText());
            }
            return b.toString();
        }
        throw ApiException.badRequest(where, where + " must be a string or an array of text parts");
    }

    /** A string, an array with one string, or an array of token ids. */
    /**
     * A string, an array of token ids, or an array of strings or of token-id arrays (several prompts); {@code texts}
     * gets each prompt's text (as given, or its ids decoded) for echo.
     */
    private static List<int[]> completionPrompts(JsonNode root, Rudder rudder, List<String> texts) {
        JsonNode p = root.get("prompt");
        String expected = "prompt must be a string, an array of token ids, or an array of strings or of token-id arrays";
        if (p == null || !(p.isTextual() || p.isArray()) || (p.isArray() && p.isEmpty())) {
            throw ApiException.badRequest("prompt", expected);
        }
        if (p.isTextual() || p.get(0).isIntegralNumber()) {
            return List.of(completionPrompt(p, "prompt", rudder, texts));
        }
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < p.size(); i++) {
            JsonNode e = p.get(i);
            if (!e.isTextual() && !(e.isArray() && !e.isEmpty() && e.get(0).isIntegralNumber())) {
                throw ApiException.badRequest("prompt", expected + "; prompt[" + i + "] is neither");
            }
            out.add(completionPrompt(e, "prompt[" + i + "]", rudder, texts));
        }
        return out;
    }

    /** One prompt: a string, tokenized as {@code rudder generate} does, or an array of token ids used as they are. */
    private static int[] completionPrompt(JsonNode p, String where, Rudder rudder, List<String> texts) {
        if (p.isTextual()) {
            texts.add(p.asText());
            try {
                return toArray(rudder.encode(p.asText()).tokenIds());
            } catch (RuntimeException e) {
                throw ApiException.badRequest("prompt", "cannot tokenize " + where + ": " + e.getMessage());
            }
        }
        int vocab = rudder.config().vocabSize();
        int[] ids = new int[p.size()];
        for (int i = 0; i < ids.length; i++) {
            if (!p.get(i).isInt() || p.get(i).asInt() < 0 || p.get(i).asInt() >= vocab) {
                throw ApiException.badRequest("prompt", where + "[" + i + "] must be a token id in 0.." + (vocab - 1));
            }
            ids[i] = p.get(i).asInt();
        }
        texts.add(rudder.tokenizer().map(t -> t.decode(ids, false)).orElse(""));
        return ids;
    }

    private static List<String> stops(JsonNode root) {
        JsonNode s = root.get("stop");
        if (s == null || s.isNull()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        if (s.isTextual()) {
            out.add(s.asText());
        } else if (s.isArray() && s.size() <= 4) {
            s.forEach(e -> out.add(e.isTextual() ? e.asText() : ""));
        } else {
            throw ApiException.badRequest("stop", "stop must be a string or an array of at most 4 strings");
        }
        if (out.stream().anyMatch(String::isEmpty)) {
            throw ApiException.badRequest("stop", "stop strings must be non-empty strings");
        }
        return out;
    }

    private static SteeringProfiles.Profile profile(JsonNode root, SteeringProfiles profiles, ServerOptions options) {
        JsonNode r = root.get("rudder");
        if (r != null && !r.isNull() && !r.isObject()) {
            throw ApiException.badRequest("rudder", "rudder must be an object {\"profile\": NAME}");
        }
        JsonNode p = r == null ? null : r.get("profile");
        if (p != null && !p.isNull() && !p.isTextual()) {
            throw ApiException.badRequest("rudder.profile", "rudder.profile must be a string");
        }
        String name = p == null || p.isNull() ? null : p.asText();
        if (name == null) {
            return profiles.get(options.defaultProfile() == null ? SteeringProfiles.NONE : options.defaultProfile());
        }
        if (name.equals(SteeringProfiles.NONE)) {
            if (options.defaultProfile() != null && !options.allowUnsteered()) {
                throw new ApiException(403, "permission_error", "rudder.profile", "this server steers every request (default profile '"
                        + options.defaultProfile() + "'); unsteered requests are not allowed");
            }
            return profiles.get(name);
        }
        if (!profiles.contains(name)) {
            throw ApiException.badRequest("rudder.profile", "unknown profile '" + name + "'; this server has "
                    + (profiles.names().isEmpty() ? "none" : String.join(", ", profiles.names())));
        }
        return profiles.get(name);
    }

    private static boolean bool(JsonNode root, String field) {
        JsonNode v = root.get(field);
        if (v == null || v.isNull()) {
            return false;
        }
        if (!v.isBoolean()) {
            throw ApiException.badRequest(field, field + " must be true or false");
        }
        return v.asBoolean();
    }

    private static Integer optInt(JsonNode root, String field) {
        if (!root.hasNonNull(field)) {
            return null;
        }
        long v = integral(root, field);
        return (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, v));
    }

    private static long integral(JsonNode root, String field) {
        JsonNode v = root.get(field);
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw ApiException.badRequest(field, field + " must be an integer");
        }
        return v.asLong();
    }

    private static double range(JsonNode root, String field, double dflt, double min, double max) {
        JsonNode v = root.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isNumber() || !(v.asDouble() >= min && v.asDouble() <= max)) {
            throw ApiException.badRequest(field, field + " must be a number in [" + (min == Double.MIN_VALUE ? "0 exclusive" : min)
                    + ", " + max + "], got " + v);
        }
        return v.asDouble();
    }

    private static int[] toArray(List<Integer> ids) {
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }
}
