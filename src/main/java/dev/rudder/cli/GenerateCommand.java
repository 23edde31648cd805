package dev.rudder.cli;

import dev.rudder.ChatMessage;
import dev.rudder.Generation;
import dev.rudder.GenerationRequest;
import dev.rudder.Rudder;
import dev.rudder.steering.apply.SteeringSpec;
import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.generate.Generator;
import dev.rudder.runtime.model.PromptInput;
import dev.rudder.steering.extract.Progress;
import dev.rudder.steering.prompts.Utf8;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.IntConsumer;

/** {@code rudder generate}: one prompt in, streamed text out, statistics on stderr. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Generate text from a prompt, streaming it to stdout.")
final class GenerateCommand implements Callable<Integer> {

    @Mixin
    ModelOptions modelOptions;

    @ArgGroup(exclusive = true, multiplicity = "1")
    PromptSource source;

    static final class PromptSource {
        @Option(names = {"-p", "--prompt"}, description = "prompt text")
        String text;

        @Option(names = {"-f", "--file"}, description = "read the prompt text from this file (UTF-8; - for standard input)")
        Path file;

        @Option(names = "--prompt-ids", split = ",", description = "feed exactly these token ids (no tokenizer, nothing added)")
        int[] ids;

        /** The prompt text: {@code -p} as given, or the whole of the {@code -f} file, strictly UTF-8. */
        String text() {
            if (file == null) {
                return text;
            }
            boolean stdin = file.toString().equals("-");
            String what = stdin ? "standard input" : "prompt file " + file;
            try {
                byte[] b = stdin ? System.in.readAllBytes() : Files.readAllBytes(file);
                return Utf8.decode(b, b.length, 0, what);
            } catch (NoSuchFileException e) {
                throw new BadInputException(what + " does not exist");
            } catch (IOException e) {
                throw new BadInputException(what + " cannot be read: " + e.getMessage(), e);
            }
        }
    }

    @Option(names = "--chat", description = "wrap the prompt in the model's chat template")
    boolean chat;

    @Option(names = "--system", description = "system message (with --chat)")
    String system;

    @Option(names = {"-n", "--max-tokens"}, defaultValue = "256", description = "most tokens to generate (default ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--context", description = "context length, 1 to the model's max_position_embeddings (default: prompt + max tokens, capped by the model)")
    Integer context;

    @Option(names = "--ignore-eos", description = "keep generating after end-of-sequence tokens")
    boolean ignoreEos;

    @Option(names = "--print-ids", description = "print the generated ids as a JSON array on the last line")
    boolean printIds;

    @Option(names = "--soft-prompt", description = "safetensors file with one 2-D tensor [rows, hidden]: its rows are fed before the prompt")
    Path softPrompt;

    @Mixin
    SamplingOptions sampling;

    @Mixin
    SteeringOptions steering;

    /**
     * A prefill progress line for a prompt of {@code tokens}, or null: only on a terminal, and only for prompts of
     * more than one {@link Generator#PROGRESS_CHUNK} (a 7B model on a laptop CPU prefills a few tokens a second).
     * The line is drawn on stdout, where the answer follows (stderr runs through the launcher's filter, which would
     * reorder the two), and erased when the prompt is done.
     */
    static IntConsumer prefillProgress(int tokens, PrintStream out) {
        java.io.Console c = System.console();
        if (tokens <= Generator.PROGRESS_CHUNK || c == null || !c.isTerminal()) {
            return null;
        }
        Progress bar = new Progress(out, "prefill", tokens);
        return done -> {
            if (done < tokens) {
                bar.update(done);
            } else {
                out.print("\r\033[K");   // back to the start of the line, erase it
                out.flush();
            }
        };
    }

    @Override
    public Integer call() {
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        if (system != null && !chat) {
            throw new BadInputException("--system needs --chat");
        }
        SteeringSpec steer = steering.spec();
        Bounds.maxTokens(maxTokens);
        String text = source.ids == null ? source.text() : null;   // a bad prompt file fails before the model loads
        long loadStart = System.nanoTime();
        try (Rudder rudder = Rudder.load(modelOptions.model, steering.loadOptions(modelOptions))) {
            long loadNanos = System.nanoTime() - loadStart;
            Integer ctx = Bounds.context(context, rudder.config());
            PromptInput prompt;
            if (source.ids != null) {
                if (chat) {
                    throw new BadInputException("--prompt-ids feeds ids as they are; it cannot be combined with --chat");
                }
                prompt = PromptInput.tokens(source.ids);
            } else if (chat) {
                List<ChatMessage> msgs = new ArrayList<>();
                if (system != null) {
                    msgs.add(ChatMessage.system(system));
                }
                msgs.add(ChatMessage.user(text));
                prompt = rudder.encodeChat(msgs);
            } else {
                prompt = rudder.encode(text);
            }
            if (softPrompt != null) {
                prompt = SoftPrompt.read(softPrompt, rudder.config().hiddenSize()).then(prompt);
            }
            GenerationRequest req = new GenerationRequest(prompt, sampling.toOptions(), maxTokens,
                    steering.plan(steer, rudder), ctx == null ? 0 : ctx, !ignoreEos);
            int room = (ctx != null ? ctx : Math.max(1, rudder.config().maxPositionEmbeddings())) - prompt.length();
            if (rudder.config().maxPositionEmbeddings() > 0 && maxTokens > room && room > 0) {
                System.err.println("rudder: note: -n " + maxTokens + " is more than the context leaves (" + room
                        + " tokens after the prompt); generation stops when the context is full");
            }
            long waited = KernelWarmup.awaitBeforePrompt(prompt.length()); // started in main(): C2 compiles the forward pass
            Generation g = rudder.generate(req, piece -> {
                out.print(piece);
                out.flush();
            }, prefillProgress(prompt.length(), out));
            out.println();
            if (printIds) {
                out.println(g.tokens());
            }
            steering.report(g.steering(), System.err);
            Stats.print(g.stats(), loadNanos, waited, System.err);
        }
        return 0;
    }
}
