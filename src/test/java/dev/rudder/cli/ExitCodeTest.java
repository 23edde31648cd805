package dev.rudder.cli;

import dev.rudder.errors.RudderException;
import dev.rudder.errors.UsageException;
import dev.rudder.runtime.BadInputException;
import dev.rudder.tokenizer.ChatTemplateException;
import dev.rudder.tokenizer.TokenizerException;
import org.junit.jupiter.api.Test;

import java.nio.file.NoSuchFileException;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ExitCodeTest {
    @Test
    void everyModulesUserFacingExceptionIsBadInputByType() {
        assertEquals(RudderCli.EXIT_BAD_INPUT, RudderCli.exitCode(new BadInputException("runtime")));
        assertEquals(RudderCli.EXIT_BAD_INPUT, RudderCli.exitCode(new TokenizerException("tokenizer")));
        assertEquals(RudderCli.EXIT_BAD_INPUT, RudderCli.exitCode(new ChatTemplateException("template")));
        assertEquals(RudderCli.EXIT_BAD_INPUT, RudderCli.exitCode(new NoSuchFileException("x")));
    }

    @Test
    void usageExceptionsExitTwoAndBugsKeepTheirStackTrace() {
        assertEquals(RudderCli.EXIT_USAGE, RudderCli.exitCode(new UsageException("--context 0")));
        assertEquals(-1, RudderCli.exitCode(new IllegalStateException("bug")));
        // a class merely named like a user error is not one any more (no name-suffix matching)
        class FakeTokenizerException extends RuntimeException {
        }
        assertEquals(-1, RudderCli.exitCode(new FakeTokenizerException()));
        assertEquals(RudderCli.EXIT_BAD_INPUT, RudderCli.exitCode(new RudderException("x")));
    }
}
