package dev.rudder.tokenizer.jinja;

/**
 * The sandbox a template runs in. A chat template is code from a downloaded model folder, so
 * every resource it can claim is bounded, and breaking a bound is a {@link JinjaException}
 * naming the limit (never a hang, an {@code OutOfMemoryError} or a {@code StackOverflowError}).
 * The defaults are far above what real chat templates use (the largest goldens take a few
 * thousand steps and nest under 20 deep) and far below what would stall or exhaust the JVM.
 *
 * @param maxSteps       statements and expressions evaluated per render (loop iterations included)
 * @param maxStringChars length of any string a template builds, and of its output
 * @param maxItems       length of any list a template builds ({@code range}, {@code +}, {@code split}, ...)
 * @param maxRange       items one {@code range()} call may produce (Jinja2's sandbox: 100,000)
 * @param maxDepth       nesting of statements and expressions: in the parser, and in the interpreter
 *                       (macro recursion included) and in values ({@code tojson} of nested lists)
 */
public record Limits(long maxSteps, int maxStringChars, int maxItems, int maxRange, int maxDepth) {

    /** 2 M steps (a second or two), 16 M characters, 1 M items, range 100 k, depth 200. */
    public static final Limits DEFAULT = new Limits(2_000_000, 16 << 20, 1 << 20, 100_000, 200);

    public Limits {
        if (maxSteps < 1 || maxStringChars < 1 || maxItems < 1 || maxRange < 1 || maxDepth < 1) {
            throw new IllegalArgumentException("template limits must be positive");
        }
    }
}
