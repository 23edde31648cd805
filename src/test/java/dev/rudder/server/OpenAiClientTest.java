package dev.rudder.server;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.PermissionDeniedException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.chat.completions.ChatCompletionTokenLogprob;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionChoice;
import com.openai.models.completions.CompletionCreateParams;
import dev.rudder.ChatMessage;
import dev.rudder.Generation;
import dev.rudder.GenerationRequest;
import dev.rudder.Rudder;
import dev.rudder.runtime.model.PromptInput;
import dev.rudder.runtime.model.Session;
import dev.rudder.runtime.steer.SteeringPlan;
import dev.rudder.tokenizer.Tokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The official OpenAI Java SDK against a real server on loopback. */
class OpenAiClientTest {
    private static Rudder rudder;
    private static RudderServer server;
    private static OpenAIClient client;

    @BeforeAll
    static void start() {
        rudder = ServerFixture.loadTarget();
        // 8-token prefill chunks: every prompt here (15-60 tokens) is prefilled in parts
        ServerOptions options = ServerOptions.defaults("target", 512).withLimits(4, 16, java.time.Duration.ofMinutes(2))
                .withPrefillChunk(8);
        server = RudderServer.start(rudder, ServerFixture.profiles(rudder), options);
        client = OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + server.port() + "/v1").apiKey("unused")
                .maxRetries(0).build();
    }

    @AfterAll
    static void stop() {
        client.close();
        server.close(java.time.Duration.ZERO);
        rudder.close();
    }

    private static ChatCompletionCreateParams.Builder chat(String text, String profile, int maxTokens) {
        ChatCompletionCreateParams.Builder b = ChatCompletionCreateParams.builder().model("target").addUserMessage(text)
                .temperature(0.0).maxCompletionTokens(maxTokens);
        if (profile != null) {
            b.putAdditionalBodyProperty("rudder", JsonValue.from(Map.of("profile", profile)));
        }
        return b;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> rudderField(Map<String, JsonValue> extra) {
        JsonValue v = extra.get("rudder");
        assertNotNull(v, "the response carries a rudder field");
        return v.convert(Map.class);
    }

    @Test
    void greedyChatEqualsRudderGenerateWithAndWithoutSteering() {
        String harmful = ServerFixture.instructions("harmful_val.jsonl", 1).get(0);
        String model = ServerFixture.TARGET.toString();
        String dir = ServerFixture.profilesDir().toString();
        ServerFixture.Cli plain = ServerFixture.rudder("generate", "--chat", "-m", model, "-p", harmful, "-n", "40",
                "--threads", "2");
        ServerFixture.Cli steered = ServerFixture.rudder("generate", "--chat", "-m", model, "-p", harmful, "-n", "40",
                "--threads", "2", "--steer", dir + "/aligned.safetensors:16", "--layers", "1-3", "--normalize",
                "--gate", dir + "/gate.safetensors");
        assertEquals(0, plain.code(), plain.err());
        assertEquals(0, steered.code(), steered.err());

        ChatCompletion a = client.chat().completions().create(chat(harmful, null, 40).build());
        assertEquals(plain.out(), a.choices().get(0).message().content().orElse("") + "\n");
        assertEquals(Map.of("profile", "none"), withoutNulls(rudderField(a._additionalProperties())));

        ChatCompletion b = client.chat().completions().create(chat(harmful, "safe", 40).build());
        assertEquals(steered.out(), b.choices().get(0).message().content().orElse("") + "\n");
        Map<String, Object> r = rudderField(b._additionalProperties());
        assertEquals("safe", r.get("profile"));
        // generate reports "gate: open, steering (score 1.234)" on stderr
        boolean open = steered.err().contains("gate: open");
        assertEquals(open, r.get("gate_open"), steered.err());
        String score = steered.err().replaceAll("(?s).*\\(score (-?[0-9.]+)\\).*", "$1");
        assertEquals(Double.parseDouble(score), ((Number) r.get("gate_score")).doubleValue(), 1e-3);
        assertFalse(a.choices().get(0).message().content().orElse("").equals(b.choices().get(0).message().content().orElse(""))
                && open, "an open gate changes the answer");
    }

    private static Map<String, Object> withoutNulls(Map<String, Object> m) {
        Map<String, Object> out = new java.util.HashMap<>(m);
        out.values().removeIf(java.util.Objects::isNull);
        return out;
    }

    @Test
    void streamedChatEqualsTheWholeAnswerAndEndsWithTheRudderField() {
        String q = ServerFixture.instructions("domain_val.jsonl", 1).get(0);
        ChatCompletion whole = client.chat().completions().create(chat(q, "safe", 48).build());
        StringBuilder text = new StringBuilder();
        List<ChatCompletionChunk> chunks = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(chat(q, "safe", 48)
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build())) {
            s.stream().forEach(c -> {
                chunks.add(c);
                c.choices().forEach(ch -> text.append(ch.delta().content().orElse("")));
            });
        }
        assertEquals(whole.choices().get(0).message().content().orElse(""), text.toString());
        assertTrue(chunks.size() >= 3, "streams in pieces: " + chunks.size());
        ChatCompletionChunk fin = chunks.get(chunks.size() - 2);
        assertEquals(whole.choices().get(0).finishReason().asString(), fin.choices().get(0).finishReason().orElseThrow().asString());
        assertEquals(rudderField(whole._additionalProperties()), rudderField(fin._additionalProperties()));
        ChatCompletionChunk usage = chunks.get(chunks.size() - 1);
        assertTrue(usage.choices().isEmpty());
        assertEquals(whole.usage().orElseThrow().completionTokens(), usage.usage().orElseThrow().completionTokens());
        assertEquals(whole.usage().orElseThrow().promptTokens(), usage.usage().orElseThrow().promptTokens());
    }

    @Test
    void completionsEndpointEqualsTheFacadeAndHonoursStopAndLength() {
        String prompt = "Once upon a time";
        Completion c = client.completions().create(CompletionCreateParams.builder().model("target").prompt(prompt)
                .maxTokens(12).temperature(0.0).build());
        Generation g = rudder.generate(new GenerationRequest(rudder.encode(prompt), null, 12, SteeringPlan.NONE, 0, true), null);
        assertEquals(g.text(), c.choices().get(0).text());
        assertEquals(g.tokens().size(), c.usage().orElseThrow().completionTokens());
        String expectedReason = g.tokens().size() == 12 && !rudder.stopTokens().contains(g.tokens().get(11)) ? "length" : "stop";
        assertEquals(expectedReason, c.choices().get(0).finishReason().asString());

        // a stop string cuts the answer before it, and finish_reason is "stop"
        String full = g.text();
        assertTrue(full.length() > 4, full);
        String stop = full.substring(full.length() / 2, full.length() / 2 + 2);
        Completion cut = client.completions().create(CompletionCreateParams.builder().model("target").prompt(prompt)
                .maxTokens(12).temperature(0.0).stop(stop).build());
        assertEquals(full.substring(0, full.indexOf(stop)), cut.choices().get(0).text());
        assertEquals("stop", cut.choices().get(0).finishReason().asString());
    }

    /** log(sum(exp(logits))), in double: the reference the server's log-probabilities are checked against. */
    private static double logNormaliser(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double z = 0;
        for (float l : logits) {
            z += Math.exp(l - max);
        }
        return max + Math.log(z);
    }

    @Test
    void logprobsAreTheModelsLogSoftmaxOfEachTokenWhetherStreamedOrNot() {
        String q = ServerFixture.instructions("harmless_val.jsonl", 2).get(1);
        int n = 6;
        ChatCompletion c = client.chat().completions().create(chat(q, null, n).logprobs(true).topLogprobs(3L).build());
        List<ChatCompletionTokenLogprob> content = c.choices().get(0).logprobs().orElseThrow().content().orElseThrow();
        String answer = c.choices().get(0).message().content().orElse("");
        boolean length = c.choices().get(0).finishReason().asString().equals("length");
        long tokens = c.usage().orElseThrow().completionTokens();
        assertEquals(length ? tokens : tokens - 1, content.size(), "one entry per token of the answer");

        // reference: the facade's own session, greedy, the log-softmax computed here in double
        StringBuilder text = new StringBuilder();
        try (Session s = rudder.newSession(512, SteeringPlan.NONE)) {
            float[] logits = s.prefill(rudder.encodeChat(List.of(ChatMessage.user(q))));
            for (ChatCompletionTokenLogprob e : content) {
                double logZ = logNormaliser(logits);
                Integer[] order = new Integer[logits.length];
                for (int i = 0; i < order.length; i++) {
                    order[i] = i;
                }
                float[] l = logits;
                java.util.Arrays.sort(order, (a, b) -> Float.compare(l[b], l[a]));
                assertEquals(logits[order[0]] - logZ, e.logprob(), 1e-6, "greedy: the chosen token is the likeliest");
                assertEquals(3, e.topLogprobs().size());
                for (int k = 0; k < 3; k++) {
                    assertEquals(logits[order[k]] - logZ, e.topLogprobs().get(k).logprob(), 1e-6);
                }
                assertEquals(e.token(), e.topLogprobs().get(0).token());
                text.append(e.token());
                logits = s.decode(order[0]);
            }
        }
        assertEquals(answer, text.toString(), "the tokens spell the answer");

        List<ChatCompletionTokenLogprob> streamed = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(
                chat(q, null, n).logprobs(true).topLogprobs(3L).build())) {
            s.stream().forEach(ch -> ch.choices().forEach(choice -> choice.logprobs()
                    .flatMap(ChatCompletionChunk.Choice.Logprobs::content).ifPresent(streamed::addAll)));
        }
        assertEquals(content.size(), streamed.size());
        for (int i = 0; i < content.size(); i++) {
            assertEquals(content.get(i).token(), streamed.get(i).token());
            assertEquals(content.get(i).logprob(), streamed.get(i).logprob());
        }
        assertTrue(client.chat().completions().create(chat(q, null, 2).build()).choices().get(0).logprobs().isEmpty(),
                "no logprobs unless asked for");
    }

    @Test
    void completionsLogprobsListTokensAlternativesAndOffsets() {
        Completion c = client.completions().create(CompletionCreateParams.builder().model("target").prompt("Once upon a time")
                .maxTokens(8).temperature(0.0).logprobs(2L).build());
        CompletionChoice choice = c.choices().get(0);
        var lp = choice.logprobs().orElseThrow();
        List<String> texts = lp.tokens().orElseThrow();
        List<Double> values = lp.tokenLogprobs().orElseThrow();
        List<Long> offsets = lp.textOffset().orElseThrow();
        assertEquals(choice.text(), String.join("", texts));
        assertEquals(texts.size(), values.size());
        long at = 0;
        for (int i = 0; i < texts.size(); i++) {
            assertEquals(at, offsets.get(i));
            at += texts.get(i).length();
            Map<String, JsonValue> top = lp.topLogprobs().orElseThrow().get(i)._additionalProperties();
            assertTrue(top.size() <= 2 && !top.isEmpty(), top.toString());
            assertEquals(values.get(i), top.get(texts.get(i)).convert(Double.class), 1e-12, "greedy: the token is its best alternative");
            assertTrue(values.get(i) <= 0);
        }

        // a stop string: the entries end with the token that reaches into the text before it
        String full = choice.text();
        String stop = full.substring(full.length() / 2, full.length() / 2 + 2);
        CompletionChoice cut = client.completions().create(CompletionCreateParams.builder().model("target")
                .prompt("Once upon a time").maxTokens(8).temperature(0.0).logprobs(2L).stop(stop).build()).choices().get(0);
        String kept = cut.text();
        List<String> keptTokens = cut.logprobs().orElseThrow().tokens().orElseThrow();
        String joined = String.join("", keptTokens);
        assertTrue(joined.startsWith(kept), joined + " covers " + kept);
        assertTrue(keptTokens.isEmpty() || joined.length() - keptTokens.get(keptTokens.size() - 1).length() < kept.length()
                || kept.isEmpty(), "no entry lies wholly past the cut: " + keptTokens + " for " + kept);
        assertEquals(texts.subList(0, keptTokens.size()), keptTokens);
    }

    @Test
    void nChoicesAreTheSeedsSeedPlusOneAndSoOnWhetherStreamedOrNot() {
        String q = ServerFixture.instructions("harmless_val.jsonl", 3).get(2);
        ChatCompletionCreateParams p = chat(q, null, 16).temperature(0.9).seed(42L).n(3L).build();
        ChatCompletion c = client.chat().completions().create(p);
        assertEquals(3, c.choices().size());
        PromptInput in = rudder.encodeChat(List.of(ChatMessage.user(q)));
        long tokens = 0;
        for (int i = 0; i < 3; i++) {
            assertEquals(i, c.choices().get(i).index());
            Generation g = rudder.generate(new GenerationRequest(in,
                    new dev.rudder.runtime.sample.SamplerOptions(0.9f, 0, 1f, 0f, 1f, 42L + i), 16, SteeringPlan.NONE, 0, true), null);
            assertEquals(g.text(), c.choices().get(i).message().content().orElse(""), "choice " + i);
            tokens += g.tokens().size();
        }
        assertEquals(tokens, c.usage().orElseThrow().completionTokens());
        assertEquals(in.tokenIds().size(), c.usage().orElseThrow().promptTokens(), "the prompt counts once");

        StringBuilder[] streamed = {new StringBuilder(), new StringBuilder(), new StringBuilder()};
        int[] finished = new int[3];
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(p)) {
            s.stream().forEach(ch -> ch.choices().forEach(choice -> {
                int i = (int) choice.index();
                streamed[i].append(choice.delta().content().orElse(""));
                if (choice.finishReason().isPresent()) {
                    finished[i]++;
                }
            }));
        }
        for (int i = 0; i < 3; i++) {
            assertEquals(c.choices().get(i).message().content().orElse(""), streamed[i].toString(), "streamed choice " + i);
            assertEquals(1, finished[i], "one finish_reason per choice");
        }
        BadRequestException tooMany = assertThrows(BadRequestException.class,
                () -> client.chat().completions().create(chat("hi", null, 2).n(17L).build()));
        assertTrue(tooMany.getMessage().contains("n must be between 1 and"), tooMany.getMessage());
    }

    @Test
    void echoWithLogprobsScoresThePromptAsTheModelDoes() {
        // what lm-evaluation-harness sends for a log-likelihood: the text back, with every prompt token's logprob
        String text = "Once upon a time there was a little";
        Completion c = client.completions().create(CompletionCreateParams.builder().model("target").prompt(text)
                .maxTokens(0).temperature(0.0).logprobs(2L).echo(true).build());
        CompletionChoice choice = c.choices().get(0);
        assertEquals(text, choice.text(), "max_tokens 0: the prompt alone");
        assertEquals("length", choice.finishReason().asString());
        var lp = choice.logprobs().orElseThrow();
        PromptInput in = rudder.encode(text);
        List<Integer> ids = in.tokenIds();
        List<Double> values = lp.tokenLogprobs().orElseThrow();
        assertEquals(ids.size(), values.size());
        assertEquals(ids.size(), c.usage().orElseThrow().promptTokens());
        assertEquals(0, c.usage().orElseThrow().completionTokens());
        assertNull(values.get(0), "nothing predicts the first token");
        try (Session s = rudder.newSession(512, SteeringPlan.NONE)) {
            float[][] all = s.prefillAllLogits(in);
            for (int p = 1; p < ids.size(); p++) {
                float[] l = all[p - 1];
                assertEquals(l[ids.get(p)] - logNormaliser(l), values.get(p), 1e-6, "prompt token " + p);
            }
        }

        // several prompts (token-id arrays, as lm-eval sends them) with one new token each: choice i is prompt i,
        // echoed and continued as a request of its own would be
        List<List<Long>> prompts = List.of(ids.subList(0, 4).stream().map(Integer::longValue).toList(),
                ids.stream().map(Integer::longValue).toList());
        Completion two = client.completions().create(CompletionCreateParams.builder().model("target")
                .prompt(CompletionCreateParams.Prompt.ofArrayOfTokenArrays(prompts)).maxTokens(1).temperature(0.0)
                .logprobs(1L).echo(true).build());
        assertEquals(2, two.choices().size());
        for (int i = 0; i < 2; i++) {
            CompletionChoice ch = two.choices().get(i);
            int[] prompt = prompts.get(i).stream().mapToInt(Long::intValue).toArray();
            Completion alone = client.completions().create(CompletionCreateParams.builder().model("target")
                    .prompt(CompletionCreateParams.Prompt.ofArrayOfTokens(prompts.get(i))).maxTokens(1).temperature(0.0).build());
            assertEquals(rudder.requireTokenizer().decode(prompt, false) + alone.choices().get(0).text(), ch.text());
            List<Double> v = ch.logprobs().orElseThrow().tokenLogprobs().orElseThrow();
            assertEquals(prompt.length + 1, v.size(), "the prompt's tokens and the new one");
            assertEquals(values.subList(1, prompt.length), v.subList(1, prompt.length), "the same prompt, the same logprobs");
        }
        assertEquals(4 + ids.size(), two.usage().orElseThrow().promptTokens());
        assertEquals(2, two.usage().orElseThrow().completionTokens());
    }

    @Test
    void logitBiasBansAndForcesTokensWhileLogprobsStayTheModels() {
        String q = ServerFixture.instructions("domain_val.jsonl", 1).get(0);
        ChatCompletion plain = client.chat().completions().create(chat(q, null, 1).logprobs(true).topLogprobs(2L).build());
        var first = plain.choices().get(0).logprobs().orElseThrow().content().orElseThrow().get(0);
        Tokenizer tok = rudder.requireTokenizer();
        int greedy = rudder.requireTokenizer().encode(first.token(), false)[0];
        assertEquals(first.token(), tok.decode(new int[] {greedy}, false), "the greedy token's id");

        ChatCompletion banned = client.chat().completions().create(chat(q, null, 1).logprobs(true)
                .logitBias(ChatCompletionCreateParams.LogitBias.builder()
                        .putAdditionalProperty(Integer.toString(greedy), JsonValue.from(-100)).build()).build());
        var second = banned.choices().get(0).logprobs().orElseThrow().content().orElseThrow().get(0);
        assertEquals(first.topLogprobs().get(1).token(), second.token(), "banned: the runner-up instead");
        assertEquals(first.topLogprobs().get(1).logprob(), second.logprob(), 1e-12, "the model's logprob, before the bias");

        int forced = tok.encode(" zebra", false)[0];
        ChatCompletion pushed = client.chat().completions().create(chat(q, null, 1)
                .logitBias(ChatCompletionCreateParams.LogitBias.builder()
                        .putAdditionalProperty(Integer.toString(forced), JsonValue.from(100)).build()).build());
        assertEquals(tok.decode(new int[] {forced}, false), pushed.choices().get(0).message().content().orElse(""));

        BadRequestException bad = assertThrows(BadRequestException.class, () -> client.chat().completions().create(chat(q, null, 1)
                .logitBias(ChatCompletionCreateParams.LogitBias.builder()
                        .putAdditionalProperty("99999999", JsonValue.from(5)).build()).build()));
        assertTrue(bad.getMessage().contains("token ids in 0.."), bad.getMessage());
    }

    @Test
    void seededSamplingRepeatsAndFollowsTheFacade() {
        String q = ServerFixture.instructions("harmless_val.jsonl", 1).get(0);
        ChatCompletionCreateParams p = chat(q, null, 32).temperature(0.9).topP(0.95).seed(1234L).build();
        String a = client.chat().completions().create(p).choices().get(0).message().content().orElse("");
        String b = client.chat().completions().create(p).choices().get(0).message().content().orElse("");
        assertEquals(a, b);
        Generation g = rudder.generate(new GenerationRequest(rudder.encodeChat(List.of(ChatMessage.user(q))),
                new dev.rudder.runtime.sample.SamplerOptions(0.9f, 0, 0.95f, 0f, 1f, 1234L), 32, SteeringPlan.NONE, 0, true), null);
        assertEquals(g.text(), a);
    }

    @Test
    void concurrentAnswersEqualTheSameRequestsRunOneAtATime() throws Exception {
        List<ChatCompletionCreateParams> reqs = new ArrayList<>();
        List<String> qs = new ArrayList<>(ServerFixture.instructions("harmful_val.jsonl", 3));
        qs.addAll(ServerFixture.instructions("domain_val.jsonl", 3));
        String[] profiles = {null, "safe", "always"};
        for (int i = 0; i < qs.size(); i++) {
            ChatCompletionCreateParams.Builder b = chat(qs.get(i), profiles[i % 3], 40);
            if (i % 2 == 1) {
                b.temperature(0.8).seed(100L + i);
            }
            reqs.add(b.build());
        }
        // prompts here are 15-60 tokens: with 16-token chunks new prompts are prefilled between decode steps
        ServerOptions options = ServerOptions.defaults("target", 512).withLimits(4, 16, java.time.Duration.ofMinutes(2))
                .withPrefillChunk(16);
        try (Rudder r = ServerFixture.loadTarget();
             RudderServer chunked = RudderServer.start(r, ServerFixture.profiles(r), options);
             OpenAIClientHolder c = new OpenAIClientHolder(chunked.port())) {
            List<String> alone = new ArrayList<>();
            for (ChatCompletionCreateParams p : reqs) {
                alone.add(c.client.chat().completions().create(p).choices().get(0).message().content().orElse(""));
            }
            ExecutorService pool = Executors.newFixedThreadPool(reqs.size());
            try {
                List<Future<String>> together = new ArrayList<>();
                for (ChatCompletionCreateParams p : reqs) {
                    together.add(pool.submit(() -> c.client.chat().completions().create(p).choices().get(0).message().content().orElse("")));
                }
                for (int i = 0; i < reqs.size(); i++) {
                    assertEquals(alone.get(i), together.get(i).get(), "request " + i);
                }
            } finally {
                pool.shutdown();
            }
            // the requests really shared decode steps (6 requests, at most 4 at once)
            String metrics = chunked.metrics().render();
            long steps = metricValue(metrics, "rudder_decode_steps_total");
            long rows = metricValue(metrics, "rudder_decode_rows_total");
            assertTrue(rows > steps, "some decode steps carried several sequences: " + rows + " rows in " + steps + " steps");
        }
    }

    static long metricValue(String metrics, String name) {
        return metrics.lines().filter(l -> l.startsWith(name + " ")).mapToLong(l -> Long.parseLong(l.split(" ")[1]))
                .findFirst().orElseThrow();
    }

    @Test
    void badRequestsAreAnswered400And403WithTheReason() {
        BadRequestException unknown = assertThrows(BadRequestException.class,
                () -> client.chat().completions().create(chat("hi", "nope", 8).build()));
        assertTrue(unknown.getMessage().contains("unknown profile 'nope'"), unknown.getMessage());
        assertTrue(unknown.getMessage().contains("safe"), unknown.getMessage());

        String longPrompt = "word ".repeat(600);
        BadRequestException tooLong = assertThrows(BadRequestException.class,
                () -> client.chat().completions().create(chat(longPrompt, null, 8).build()));
        assertTrue(tooLong.getMessage().contains("context of 512 tokens"), tooLong.getMessage());

        BadRequestException top = assertThrows(BadRequestException.class,
                () -> client.chat().completions().create(chat("hi", null, 8).topLogprobs(2L).build()));
        assertTrue(top.getMessage().contains("top_logprobs needs logprobs: true"), top.getMessage());
        BadRequestException many = assertThrows(BadRequestException.class,
                () -> client.chat().completions().create(chat("hi", null, 8).logprobs(true).topLogprobs(21L).build()));
        assertTrue(many.getMessage().contains("between 0 and 20"), many.getMessage());

        BadRequestException temp = assertThrows(BadRequestException.class,
                () -> client.chat().completions().create(chat("hi", null, 8).temperature(-1.0).build()));
        assertTrue(temp.getMessage().contains("temperature"), temp.getMessage());
    }

    @Test
    void modelsListsTheModelAndItsProfiles() {
        var models = client.models().list();
        assertEquals("target", models.data().get(0).id());
        @SuppressWarnings("unchecked")
        Map<String, Object> r = models.data().get(0)._additionalProperties().get("rudder").convert(Map.class);
        assertEquals(List.of("safe", "always"), r.get("profiles"));
        assertEquals("target", client.models().retrieve("target").id());
        assertThrows(com.openai.errors.NotFoundException.class, () -> client.models().retrieve("gpt-4"));
    }

    @Test
    void defaultProfileAppliesAndCannotBeSwitchedOffUnlessAllowed() {
        try (Rudder r = ServerFixture.loadTarget();
             RudderServer strict = RudderServer.start(r, ServerFixture.profiles(r),
                     ServerOptions.defaults("target", 512).withProfiles("always", false));
             OpenAIClientHolder c = new OpenAIClientHolder(strict.port())) {
            ChatCompletion a = c.client.chat().completions().create(chat("Compute 3 plus 4.", null, 8).build());
            assertEquals("always", rudderField(a._additionalProperties()).get("profile"));
            assertNull(rudderField(a._additionalProperties()).get("gate_open"));
            PermissionDeniedException e = assertThrows(PermissionDeniedException.class,
                    () -> c.client.chat().completions().create(chat("Compute 3 plus 4.", "none", 8).build()));
            assertTrue(e.getMessage().contains("unsteered requests are not allowed"), e.getMessage());
        }
        try (Rudder r = ServerFixture.loadTarget();
             RudderServer lenient = RudderServer.start(r, ServerFixture.profiles(r),
                     ServerOptions.defaults("target", 512).withProfiles("always", true));
             OpenAIClientHolder c = new OpenAIClientHolder(lenient.port())) {
            ChatCompletion plain = c.client.chat().completions().create(chat("Compute 3 plus 4.", "none", 8).build());
            assertEquals("none", rudderField(plain._additionalProperties()).get("profile"));
        }
    }

    /** A client for another server, closed with it. */
    static final class OpenAIClientHolder implements AutoCloseable {
        final OpenAIClient client;

        OpenAIClientHolder(int port) {
            client = OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + port + "/v1").apiKey("unused").maxRetries(0).build();
        }

        @Override
        public void close() {
            client.close();
        }
    }
}
