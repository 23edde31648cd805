package dev.rudder;

import dev.rudder.runtime.sample.SamplerOptions;
import dev.rudder.runtime.steer.SteeringPlan;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConversationTest {
    private static final Path CHAT = Path.of(System.getProperty("rudder.shared", "../../shared")).resolve("models/rudder-chat/aligned");

    @Test
    void reusingTheCacheAcrossTurnsAnswersLikeFreshRequests() {
        try (Rudder r = Rudder.load(CHAT, 2)) {
            Conversation conv = r.conversation(SteeringPlan.NONE, SamplerOptions.GREEDY, 0);
            List<ChatMessage> history = new ArrayList<>();
            String[] turns = {"Compute 3 plus 4.", "Now reverse the list 1, 2, 3.", "Convert 2 meters to centimeters."};
            for (int t = 0; t < turns.length; t++) {
                Generation reused = conv.reply(turns[t], 32, null);
                history.add(ChatMessage.user(turns[t]));
                Generation fresh = r.generate(GenerationRequest.of(r.encodeChat(history), 32), null);
                history.add(ChatMessage.assistant(fresh.text()));
                assertEquals(fresh.text(), reused.text(), "turn " + t);
                if (t > 0) {
                    assertTrue(reused.stats().promptTokens() < fresh.stats().promptTokens(),
                            "turn " + t + " prefilled " + reused.stats().promptTokens() + " of " + fresh.stats().promptTokens() + " tokens");
                }
            }
            assertEquals(history, conv.history());
        }
    }
}
