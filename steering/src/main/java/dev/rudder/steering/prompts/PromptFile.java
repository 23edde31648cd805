package dev.rudder.steering.prompts;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rudder.runtime.BadInputException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads prompt sets: one prompt per line, either plain text, a JSON string, or a JSON object
 * with an {@code instruction} field (the format of ../shared/prompts). Blank lines are skipped.
 * Other fields of JSON objects (e.g. {@code answer}) are kept.
 */
public final class PromptFile {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One prompt and, for domain sets, its expected answer (else null). */
    public record Prompt(String instruction, String answer) {
    }

    private PromptFile() {
    }

    public static List<Prompt> read(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new BadInputException("prompt file " + file + " does not exist");
        } catch (IOException e) {
            throw new BadInputException("cannot read prompt file " + file + ": " + e.getMessage(), e);
        }
        List<Prompt> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) {
                continue;
            }
            if (line.startsWith("{") || line.startsWith("\"")) {
                try {
                    JsonNode n = JSON.readTree(line);
                    if (n.isTextual()) {
                        out.add(new Prompt(n.asText(), null));
                        continue;
                    }
                    JsonNode ins = n.get("instruction");
                    if (ins == null || !ins.isTextual()) {
                        throw new BadInputException(file + " line " + (i + 1) + ": JSON object without a string \"instruction\" field");
                    }
                    JsonNode ans = n.get("answer");
                    out.add(new Prompt(ins.asText(), ans == null || ans.isNull() ? null : ans.asText()));
                    continue;
                } catch (IOException e) {
                    if (line.startsWith("{")) {
                        throw new BadInputException(file + " line " + (i + 1) + " is not valid JSON: " + e.getMessage());
                    }
                }
            }
            out.add(new Prompt(line, null));
        }
        if (out.isEmpty()) {
            throw new BadInputException("prompt file " + file + " holds no prompts");
        }
        return out;
    }

    public static List<Prompt> read(Path file, int limit) {
        List<Prompt> all = read(file);
        return limit > 0 && limit < all.size() ? all.subList(0, limit) : all;
    }
}
