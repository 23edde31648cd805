package dev.rudder.tokenizer;

import dev.rudder.errors.RudderException;

/** Bad tokenizer files or input; the message names the file and the field where it can. */
public class TokenizerException extends RudderException {
    public TokenizerException(String message) {
        super(message);
    }

    public TokenizerException(String message, Throwable cause) {
        super(message, cause);
    }
}
