package dev.rudder.runtime;

import dev.rudder.errors.RudderException;

/**
 * Input the user can fix: a missing or malformed model file, a prompt longer than the context,
 * an option out of range. The command line maps it to exit code 1 and prints only the message,
 * so the message must name the file, tensor or option at fault.
 */
public class BadInputException extends RudderException {
    public BadInputException(String message) {
        super(message);
    }

    public BadInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
