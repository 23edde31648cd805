package dev.rudder.tokenizer;

/** Bad tokenizer files or input; the message names the file and the field where it can. */
public class TokenizerException extends RuntimeException {
    public TokenizerException(String message) {
        super(message);
    }

    public TokenizerException(String message, Throwable cause) {
        super(message, cause);
    }
}
