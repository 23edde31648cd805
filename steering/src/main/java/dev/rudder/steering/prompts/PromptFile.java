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

    /** One prompt and, for domain sets, its expected answer (else null); {@code line} is 1-based (0: not from a file). */
    public record Prompt(String instruction, String answer, int line) {
        public Prompt(String instruction, String answer) {
            this(instruction, answer, 0);
        }
    }

    private PromptFile() {
    }

    public static List<Prompt> read(Path file) {
        List<String> lines;
        try {
            byte[] bytes = Files.readAllBytes(file);
            lines = Utf8.decode(bytes, bytes.length, 0, "prompt file " + file).lines().toList();
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
            JsonNode n = parseJson(line);
            if (n == null) {
                if (line.startsWith("{")) {
                    throw new BadInputException(file + " line " + (i + 1) + " is not valid JSON (it starts with '{')");
                }
                out.add(new Prompt(line, null, i + 1));
            } else if (n.isTextual()) {
                out.add(new Prompt(n.asText(), null, i + 1));
            } else if (n.isObject()) {
                JsonNode ins = n.get("instruction");
                if (ins == null || !ins.isTextual()) {
                    throw new BadInputException(file + " line " + (i + 1) + ": JSON object without a string \"instruction\" field");
                }
                JsonNode ans = n.get("answer");
                if (ans != null && !ans.isNull() && !ans.isValueNode()) {
                    throw new BadInputException(file + " line " + (i + 1) + ": \"answer\" must be a string or a number");
                }
                out.add(new Prompt(ins.asText(), ans == null || ans.isNull() ? null : ans.asText(), i + 1));
            } else {
                throw new BadInputException(file + " line " + (i + 1) + " is JSON " + kind(n)
                        + ", not a prompt: expected plain text, a JSON string or an object with \"instruction\""
                        + " (write it as a JSON string to use it as the prompt text)");
            }
        }
        if (out.isEmpty()) {
            throw new BadInputException("prompt file " + file + " holds no prompts");
        }
        return out;
    }

    /** The line as JSON when it is exactly one JSON value, else null (plain text). */
    private static JsonNode parseJson(String line) {
        char c = line.charAt(0);
        if (c != '{' && c != '[' && c != '"' && c != '-' && !Character.isDigit(c)
                && !line.equals("true") && !line.equals("false") && !line.equals("null")) {
            return null;
        }
        try (var parser = JSON.createParser(line)) {
            JsonNode n = JSON.readTree(parser);
            return n != null && parser.nextToken() == null ? n : null;
        } catch (IOException e) {
            return null;
        }
    }

    private static String kind(JsonNode n) {
        return n.isArray() ? "an array" : n.isNumber() ? "a number" : n.isBoolean() ? "a boolean" : n.isNull() ? "null" : "a " + n.getNodeType();
    }

    public static List<Prompt> read(Path file, int limit) {
        List<Prompt> all = read(file);
        return limit > 0 && limit < all.size() ? all.subList(0, limit) : all;
    }
}
