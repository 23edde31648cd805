package dev.rudder.errors;

/**
 * Input the user can fix: a malformed file, an option out of range, a template that broke a
 * sandbox limit. Every module's user-facing exception extends this class (tokenizer and runtime
 * share nothing else), so the command line maps exceptions to exit codes by type: a
 * {@code RudderException} prints only its message and exits 1, a {@link UsageException} exits 2.
 * The message must therefore name the file, field or option at fault.
 */
public class RudderException extends RuntimeException {
    public RudderException(String message) {
        super(message);
    }

    public RudderException(String message, Throwable cause) {
        super(message, cause);
    }
}
