package dev.rudder.server;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StopStringsTest {

    @Test
    void textIsReleasedUnlessItCouldStartAStopString() {
        StopStrings s = new StopStrings(List.of("END"));
        assertEquals("Hello ", s.accept("Hello E"));   // "E" may begin "END": held back
        assertEquals("Ex", s.accept("x"));              // it did not
        assertFalse(s.hit());
        assertEquals("", s.accept("EN"));
        assertEquals("", s.accept("D and more"));       // "END" completed across pieces: nothing of it is sent
        assertTrue(s.hit());
        assertEquals("", s.accept("after"));
    }

    @Test
    void theEarliestStopStringWins() {
        StopStrings s = new StopStrings(List.of("world", "lo"));
        assertEquals("Hel", s.accept("Hello world"));
        assertTrue(s.hit());
    }

    @Test
    void heldTextIsFlushedWhenGenerationEndsOtherwise() {
        StopStrings s = new StopStrings(List.of("\n\nUser:"));
        assertEquals("answer", s.accept("answer\n\nUs"));
        assertEquals("\n\nUs", s.flush());
        StopStrings none = new StopStrings(List.of());
        assertEquals("abc", none.accept("abc"));
    }
}
