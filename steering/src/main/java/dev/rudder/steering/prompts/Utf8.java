package dev.rudder.steering.prompts;

import dev.rudder.runtime.BadInputException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Strict UTF-8 for user text (prompt files, standard input): invalid bytes are an error naming
 * the byte offset, instead of silently becoming U+FFFD and reaching the model as garbage.
 */
public final class Utf8 {
    private Utf8() {
    }

    /**
     * Decodes {@code bytes}; {@code baseOffset} is where they start in their source.
     *
     * @throws BadInputException "{@code what}: invalid UTF-8 at byte offset N"
     */
    public static String decode(byte[] bytes, int length, long baseOffset, String what) {
        CharsetDecoder d = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes, 0, length);
        CharBuffer out = CharBuffer.allocate(length);
        CoderResult r = d.decode(in, out, true);
        if (r.isUnderflow()) {
            r = d.flush(out);
        }
        if (r.isError()) {
            throw new BadInputException(what + ": invalid UTF-8 at byte offset " + (baseOffset + in.position()));
        }
        return out.flip().toString();
    }

    /** Reads lines of strict UTF-8 ({@code \n} or {@code \r\n} ends a line), tracking the byte offset for errors. */
    public static final class LineReader {
        private final InputStream in;
        private final String what;
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();
        private long offset;

        public LineReader(InputStream in, String what) {
            this.in = in.markSupported() ? in : new java.io.BufferedInputStream(in);
            this.what = what;
        }

        /** The next line without its terminator, or null at the end of input. */
        public String readLine() throws IOException {
            line.reset();
            long start = offset;
            int b;
            while ((b = in.read()) >= 0) {
                offset++;
                if (b == '\n') {
                    break;
                }
                line.write(b);
            }
            if (b < 0 && line.size() == 0) {
                return null;
            }
            byte[] bytes = line.toByteArray();
            int n = bytes.length;
            if (n > 0 && bytes[n - 1] == '\r') {
                n--;
            }
            return decode(bytes, n, start, what);
        }
    }
}
