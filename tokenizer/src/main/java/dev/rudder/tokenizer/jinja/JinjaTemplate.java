package dev.rudder.tokenizer.jinja;

import java.util.List;
import java.util.Map;

/**
 * A Jinja template rendered with the semantics of {@code @huggingface/jinja} (the engine behind
 * {@code apply_chat_template} in transformers.js, matching the Python environment of transformers): trim_blocks
 * and lstrip_blocks on, {@code raise_exception}, {@code strftime_now}, {@code namespace}, Python string methods,
 * slicing, loop controls. Thread-safe: a parsed template can be rendered concurrently.
 */
public final class JinjaTemplate {
    private final List<Node> program;

    private JinjaTemplate(List<Node> program) {
        this.program = program;
    }

    /** Parses {@code source}; throws {@link JinjaException} on a syntax error. */
    public static JinjaTemplate parse(String source) {
        return new JinjaTemplate(Parser.parse(Lexer.tokenize(source, true, true)));
    }

    /** Renders with {@code context} (Java maps, lists, strings, numbers, booleans, null). */
    public String render(Map<String, ?> context) {
        Interpreter interp = new Interpreter();
        Interpreter.Env env = new Interpreter.Env(Interpreter.globals());
        for (Map.Entry<String, ?> e : context.entrySet()) {
            env.set(e.getKey(), Values.from(e.getValue()));
        }
        try {
            return interp.blockToString(program, env);
        } catch (StackOverflowError e) {
            throw new JinjaException("template recursion too deep");
        } catch (ClassCastException | IndexOutOfBoundsException | ArithmeticException e) {
            throw new JinjaException("template evaluation failed: " + e);
        }
    }
}
