package dev.rudder.tokenizer.jinja;

import dev.rudder.errors.RudderException;

/** A template could not be parsed or rendered; {@link #raised()} when the template called {@code raise_exception}. */
public final class JinjaException extends RudderException {
    private final boolean raised;

    public JinjaException(String message, boolean raised) {
        super(message);
        this.raised = raised;
    }

    public JinjaException(String message) {
        this(message, false);
    }

    /** True when the template raised this error on purpose ({@code raise_exception(msg)}). */
    public boolean raised() {
        return raised;
    }
}
