package dev.rudder;

import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.model.PromptInput;
import dev.rudder.runtime.model.Session;
import dev.rudder.runtime.sample.SamplerOptions;
import dev.rudder.runtime.steer.SteeringPlan;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * A chat that reuses its KV cache across turns. Every turn the whole history is rendered with the
 * model's chat template and tokenized; the longest prefix that the cache already holds is kept
 * and only the rest is prefilled, so the result is the same as a fresh request, only faster.
 * Made by {@link Rudder#conversation}; not thread-safe.
 */
public final class Conversation {
    private final Rudder rudder;
    private final SteeringPlan plan;
    private final SamplerOptions sampling;
    private final int contextLength;
    private final List<ChatMessage> history = new ArrayList<>();
    private Session session;
    private int[] cached = new int[0];   // the tokens whose keys/values the session holds, in order

    Conversation(Rudder rudder, SteeringPlan plan, SamplerOptions sampling, int contextLength) {
        this.rudder = rudder;
        this.plan = plan == null ? SteeringPlan.NONE : plan;
        this.sampling = sampling;
        int max = rudder.config().maxPositionEmbeddings();
        this.contextLength = contextLength > 0 ? contextLength : max > 0 ? Math.min(max, 8192) : 8192;
    }

    /** The context length every turn must fit in. */
    public int contextLength() {
        return contextLength;
    }

    public List<ChatMessage> history() {
        return List.copyOf(history);
    }

    /** Adds a message without generating (e.g. a system prompt). */
    public void add(ChatMessage m) {
        history.add(m);
    }

    /** Forgets the conversation (system messages stay). */
    public void reset() {
        history.removeIf(m -> !m.role().equals("system"));
    }

    /** Adds the user's message, generates the assistant's answer (streamed to {@code onText}) and records it. */
    public Generation reply(String userText, int maxTokens, Consumer<String> onText) {
        history.add(ChatMessage.user(userText));
        int[] ids = rudder.encodeChat(history).tokenIds().stream().mapToInt(Integer::intValue).toArray();
        if ((long) ids.length + maxTokens > contextLength) {
            history.remove(history.size() - 1);
            throw new BadInputException("the conversation (" + ids.length + " tokens) plus " + maxTokens
                    + " new tokens does not fit the context length of " + contextLength + "; start over with /reset");
        }
        int keep = session == null || plan.gate() != null ? 0 : commonPrefix(cached, ids);
        keep = Math.min(keep, ids.length - 1);   // feed at least one token to get logits
        if (keep == 0) {
            session = rudder.newSession(contextLength, plan);
        } else {
            session.rewind(keep);
        }
        GenerationRequest req = new GenerationRequest(PromptInput.tokens(Arrays.copyOfRange(ids, keep, ids.length)),
                sampling, maxTokens, plan, contextLength, true);
        Generation g = rudder.generateOn(session, req.prompt(), req, onText, null);
        // the cache now holds the prompt and every generated token but the last (never fed back)
        int fed = Math.max(0, g.tokens().size() - 1);
        cached = Arrays.copyOf(ids, ids.length + fed);
        for (int i = 0; i < fed; i++) {
            cached[ids.length + i] = g.tokens().get(i);
        }
        history.add(ChatMessage.assistant(g.text()));
        return g;
    }

    private static int commonPrefix(int[] a, int[] b) {
        int n = Math.min(a.length, b.length);
        int i = 0;
        while (i < n && a[i] == b[i]) {
            i++;
        }
        return i;
    }
}
