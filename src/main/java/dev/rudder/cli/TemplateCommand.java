package dev.rudder.cli;

import dev.rudder.steering.prompts.Utf8;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rudder.tokenizer.ChatTemplate;
import dev.rudder.tokenizer.ChatTemplateException;
import dev.rudder.ModelTokenizers;
import dev.rudder.tokenizer.Tokenizer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code rudder template}: the {@code apply_chat_template} of Rudder. Reads one JSON object per line from stdin
 * ({@code {"messages": [...], "add_generation_prompt": true, ...}}; further keys become template variables; the
 * model's bos_token/eos_token/unk_token/pad_token are filled in unless given) and writes the rendered prompt as one
 * JSON string per line, or {@code {"error": "..."}} where the template raises an error.
 */
@Command(name = "template", mixinStandardHelpOptions = true,
        description = {"Render chat prompts with a model's chat template (like apply_chat_template).",
                "stdin: one JSON object per line: {\"messages\": [{\"role\": ..., \"content\": ...}], "
                        + "\"add_generation_prompt\": true, ...}; other keys are template variables.",
                "stdout: one JSON string per line, or {\"error\": \"...\"} where the template raises."})
final class TemplateCommand implements Callable<Integer> {

    @Option(names = {"-m", "--model"}, required = true,
            description = "model folder with tokenizer_config.json (chat_template, special tokens), or a GGUF file")
    Path model;

    @Option(names = "--template", paramLabel = "FILE.jinja", description = "use this Jinja template instead of the model's")
    Path template;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public Integer call() throws IOException {
        Tokenizer tok = ModelTokenizers.load(model);
        ChatTemplate ct;
        if (template != null) {
            if (!Files.isRegularFile(template)) {
                throw new ChatTemplateException(template + ": template file not found");
            }
            ct = ChatTemplate.of(Files.readString(template), "chat template " + template);
        } else {
            ct = tok.chatTemplate().orElseThrow(() -> new ChatTemplateException(
                    model + ": the model has no chat template (tokenizer_config.json chat_template); pass --template FILE.jinja"));
        }
        PrintWriter out = spec.commandLine().getOut();
        Utf8.LineReader in = new Utf8.LineReader(System.in, "standard input");
        String line;
        int n = 0;
        while ((line = in.readLine()) != null) {
            n++;
            if (line.isBlank()) {
                continue;
            }
            Map<String, Object> vars;
            try {
                vars = JSON.readValue(line, new TypeReference<LinkedHashMap<String, Object>>() {
                });
            } catch (JsonProcessingException e) {
                throw new ChatTemplateException("stdin line " + n + ": not a JSON object: " + e.getOriginalMessage());
            }
            Object messages = vars.remove("messages");
            if (!(messages instanceof List<?>)) {
                throw new ChatTemplateException("stdin line " + n + ": field messages: expected a list of {role, content}");
            }
            Object agp = vars.remove("add_generation_prompt");
            if (agp != null && !(agp instanceof Boolean)) {
                throw new ChatTemplateException("stdin line " + n + ": field add_generation_prompt: expected true or false");
            }
            Map<String, Object> ctx = new LinkedHashMap<>(tok.specialTokens());
            ctx.putAll(vars);
            @SuppressWarnings("unchecked") List<Map<String, Object>> msgs = (List<Map<String, Object>>) messages;
            try {
                out.println(JSON.writeValueAsString(ct.render(msgs, Boolean.TRUE.equals(agp), ctx)));
            } catch (ChatTemplateException e) {
                out.println(JSON.writeValueAsString(Map.of("error", e.getMessage())));
            }
            out.flush();
        }
        return 0;
    }
}
