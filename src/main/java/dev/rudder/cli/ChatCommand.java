package dev.rudder.cli;

import dev.rudder.ChatMessage;
import dev.rudder.Conversation;
import dev.rudder.Generation;
import dev.rudder.Rudder;
import dev.rudder.steering.prompts.Utf8;
import dev.rudder.steering.apply.SteeringSpec;
import dev.rudder.errors.RudderException;
import dev.rudder.errors.UsageException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code rudder chat}: an interactive conversation using the model's chat template. Each user
 * line is a turn; the whole conversation is re-rendered with the template every turn, so the
 * template's rules (role alternation, system prompt placement) always hold, and only the part
 * the KV cache does not already hold is prefilled.
 */
@Command(name = "chat", mixinStandardHelpOptions = true,
        description = "Interactive chat with the model's chat template (type /exit or end input to quit, /reset to start over).")
final class ChatCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--system", description = "system message")
    String system;

    @Option(names = {"-n", "--max-tokens"}, defaultValue = "512", description = "most tokens per answer (default ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--context", description = "context length, 1 to the model's max_position_embeddings (default: the model's, at most 8192)")
    Integer context;

    @Mixin
    SamplingOptions sampling;

    @Mixin
    SteeringOptions steering;

    @Override
    public Integer call() throws Exception {
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        Utf8.LineReader in = new Utf8.LineReader(System.in, "standard input");
        SteeringSpec steer = steering.spec();
        Bounds.maxTokens(maxTokens);
        try (Rudder rudder = Rudder.load(modelOptions.model, steering.loadOptions(modelOptions))) {
            var plan = steering.plan(steer, rudder);
            rudder.renderChat(List.of(ChatMessage.user("check")));   // fail early without a chat template
            Integer ctx = Bounds.context(context, rudder.config());
            Conversation chat = rudder.conversation(plan, sampling.toOptions(), ctx == null ? 0 : ctx);
            if (maxTokens >= chat.contextLength()) {
                throw new UsageException("-n " + maxTokens + " leaves no room for a message in the context of "
                        + chat.contextLength() + " tokens; lower -n or raise --context");
            }
            if (system != null) {
                chat.add(ChatMessage.system(system));
            }
            boolean tty = System.console() != null;
            while (true) {
                if (tty) {
                    out.print("> ");
                    out.flush();
                }
                String line = in.readLine();
                if (line == null || line.strip().equals("/exit")) {
                    break;
                }
                if (line.strip().equals("/reset")) {
                    chat.reset();
                    continue;
                }
                if (line.isBlank()) {
                    continue;
                }
                Generation g;
                try {
                    g = chat.reply(line, maxTokens, piece -> {
                        out.print(piece);
                        out.flush();
                    });
                } catch (RudderException e) {
                    System.err.println("rudder: " + e.getMessage());   // e.g. context full: the session goes on
                    continue;
                }
                out.println();
                steering.report(g.steering(), System.err);
                Stats.print(g.stats(), System.err);
            }
        }
        return 0;
    }
}
