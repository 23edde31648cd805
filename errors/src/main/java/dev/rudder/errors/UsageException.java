package dev.rudder.errors;

/**
 * An option value that is wrong in itself or for the model it is used with (e.g. a context
 * longer than the model's maximum), found after the command line was parsed: exit code 2.
 */
public class UsageException extends RudderException {
    public UsageException(String message) {
        super(message);
    }
}
