package dev.rudder.cli;

import dev.rudder.steering.prompts.Utf8;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rudder.tokenizer.Encoding;
import dev.rudder.ModelTokenizers;
import dev.rudder.tokenizer.Tokenizer;
import dev.rudder.tokenizer.TokenizerException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code rudder tokenize}: text to ids (one JSON array per input line), or ids back to text with {@code --decode};
 * the {@code llama-tokenize} of Rudder.
 */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = {"Tokenize text with a model's tokenizer, or decode ids back to text.",
                "stdin: one text per line (or one JSON string per line with --json); with --decode one JSON array of ids per line.",
                "stdout: one JSON array of ids per line; with --decode the text (a JSON string with --json)."})
final class TokenizeCommand implements Callable<Integer> {

    @Option(names = {"-m", "--model"}, required = true, description = "model folder with tokenizer.json, or a GGUF file")
    Path model;

    @Option(names = "--no-special",
            description = "encode without the special tokens the post-processor adds (e.g. BOS); with --decode: drop special tokens")
    boolean noSpecial;

    @Option(names = "--decode", description = "read JSON arrays of ids and write the decoded text")
    boolean decode;

    @Option(names = "--json", description = "input texts (or, with --decode, output texts) are JSON strings, one per line")
    boolean json;

    @Option(names = "--tokens", description = "write the token strings instead of the ids")
    boolean tokens;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public Integer call() throws IOException {
        Tokenizer tok = ModelTokenizers.load(model);
        PrintWriter out = spec.commandLine().getOut();
        Utf8.LineReader in = new Utf8.LineReader(System.in, "standard input");
        String line;
        int n = 0;
        while ((line = in.readLine()) != null) {
            n++;
            if (decode) {
                if (line.isBlank()) {
                    continue;
                }
                String text = tok.decode(parseIds(line, n, tok), noSpecial);
                out.println(json ? JSON.writeValueAsString(text) : text);
            } else {
                String text = line;
                if (json) {
                    if (line.isBlank()) {
                        continue;
                    }
                    JsonNode node;
                    try {
                        node = JSON.readTree(line);
                    } catch (JsonProcessingException e) {
                        throw new TokenizerException("stdin line " + n + ": not JSON: " + e.getOriginalMessage());
                    }
                    if (node == null || !node.isTextual()) {
                        throw new TokenizerException("stdin line " + n + ": expected a JSON string");
                    }
                    text = node.asText();
                }
                if (tokens) {
                    Encoding e = tok.encodeDetailed(text, !noSpecial);
                    out.println(JSON.writeValueAsString(e.tokens()));
                } else {
                    out.println(JSON.writeValueAsString(tok.encode(text, !noSpecial)));
                }
            }
            out.flush();
        }
        return 0;
    }

    private static int[] parseIds(String line, int n, Tokenizer tok) {
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new TokenizerException("stdin line " + n + ": not JSON: " + e.getOriginalMessage());
        }
        if (node == null || !node.isArray()) {
            throw new TokenizerException("stdin line " + n + ": expected a JSON array of token ids");
        }
        int[] ids = new int[node.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode x = node.get(i);
            if (!x.canConvertToInt() || !x.isIntegralNumber() || x.asInt() < 0 || x.asInt() >= tok.vocabSize()) {
                throw new TokenizerException("stdin line " + n + ": element " + i + " (" + x + ") is not a token id "
                        + "of this vocabulary (0.." + (tok.vocabSize() - 1) + ")");
            }
            ids[i] = x.asInt();
        }
        return ids;
    }
}
