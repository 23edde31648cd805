package dev.rudder.cli;

import dev.rudder.ChatMessage;
import dev.rudder.Rudder;
import dev.rudder.steering.prompts.PromptFile;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Turns prompt files into token ids, wrapped in the model's chat template or as plain text. */
final class PromptSets {
    private PromptSets() {
    }

    static List<int[]> encode(Rudder rudder, List<PromptFile.Prompt> prompts, boolean chat) {
        List<int[]> out = new ArrayList<>(prompts.size());
        for (PromptFile.Prompt p : prompts) {
            out.add(ids(rudder, p.instruction(), chat));
        }
        return out;
    }

    static List<int[]> encode(Rudder rudder, Path file, boolean chat, int limit) {
        return encode(rudder, PromptFile.read(file, limit), chat);
    }

    static int[] ids(Rudder rudder, String text, boolean chat) {
        int[] ids = chat ? toArray(rudder.encodeChat(List.of(ChatMessage.user(text))).tokenIds())
                : toArray(rudder.encode(text).tokenIds());
        return ids;
    }

    private static int[] toArray(List<Integer> l) {
        int[] a = new int[l.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = l.get(i);
        }
        return a;
    }
}
