package dev.rudder.tokenizer.jinja;

import java.util.List;
import java.util.Map;

/**
 * A Jinja template rendered with the semantics of {@code @huggingface/jinja} (the engine behind
 * {@code apply_chat_template} in transformers.js, matching the Python environment of transformers): trim_blocks
 * and lstrip_blocks on, {@code raise_exception}, {@code strftime_now}, {@code namespace}, Python string methods,
 * slicing, loop controls. Parsing and rendering run inside {@link Limits} (a template is code from a downloaded
 * model folder); every error message starts with the template's origin (e.g. its file). Thread-safe: a parsed
 * template can be rendered concurrently.
 */
public final class JinjaTemplate {
    private final List<Node> program;
    private final String origin;
    private final Limits limits;

    private JinjaTemplate(List<Node> program, String origin, Limits limits) {
        this.program = program;
        this.origin = origin;
        this.limits = limits;
    }

    /** Parses {@code source} with the default limits; throws {@link JinjaException} on a syntax error. */
    public static JinjaTemplate parse(String source) {
        return parse(source, "template", Limits.DEFAULT);
    }

    /**
     * Parses {@code source}; {@code origin} names it in every error (e.g. "chat template in
     * /m/tokenizer_config.json").
     *
     * @throws JinjaException on a syntax error or when the template nests deeper than {@code limits} allow
     */
    public static JinjaTemplate parse(String source, String origin, Limits limits) {
        try {
            return new JinjaTemplate(Parser.parse(Lexer.tokenize(source, true, true), new Budget(limits)), origin, limits);
        } catch (JinjaException e) {
            throw new JinjaException(origin + ": " + e.getMessage());
        } catch (StackOverflowError e) {
            throw new JinjaException(origin + ": " + Budget.exceeded("nesting depth", limits.maxDepth(),
                    "the parser ran out of stack first").getMessage());
        }
    }

    /** Where the template came from, as error messages name it. */
    public String origin() {
        return origin;
    }

    /**
     * Renders with {@code context} (Java maps, lists, strings, numbers, booleans, null).
     *
     * @throws JinjaException when the template raises an error ({@link JinjaException#raised()}: the message is
     *                        exactly the template's), fails, or breaks a sandbox limit (the message names the limit)
     */
    public String render(Map<String, ?> context) {
        Budget budget = new Budget(limits);
        Interpreter interp = new Interpreter(budget);
        Interpreter.Env env = new Interpreter.Env(Globals.env(budget));
        try {
            for (Map.Entry<String, ?> e : context.entrySet()) {
                env.set(e.getKey(), Values.from(e.getValue()));
            }
            return interp.blockToString(program, env);
        } catch (JinjaException e) {
            throw e.raised() ? e : new JinjaException(origin + ": " + e.getMessage());
        } catch (StackOverflowError e) {
            // a backstop: the depth limit should come first
            throw new JinjaException(origin + ": " + Budget.exceeded("nesting depth", limits.maxDepth(),
                    "the interpreter ran out of stack first").getMessage());
        } catch (ClassCastException | IndexOutOfBoundsException | ArithmeticException | NumberFormatException e) {
            throw new JinjaException(origin + ": template evaluation failed: " + e);
        }
    }
}
