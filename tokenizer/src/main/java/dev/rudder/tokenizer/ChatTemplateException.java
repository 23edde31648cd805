package dev.rudder.tokenizer;

import dev.rudder.errors.RudderException;

/**
 * A chat template failed: either it raised an error on purpose ({@code raise_exception(msg)}, the message is
 * exactly {@code msg}) or it could not be parsed or evaluated.
 */
public class ChatTemplateException extends RudderException {
    public ChatTemplateException(String message) {
        super(message);
    }

    public ChatTemplateException(String message, Throwable cause) {
        super(message, cause);
    }
}
