package dev.rudder.tokenizer;

import dev.rudder.tokenizer.jinja.JinjaException;
import dev.rudder.tokenizer.jinja.JinjaTemplate;
import dev.rudder.tokenizer.jinja.Limits;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model's chat template: Jinja source rendered exactly as Hugging Face's {@code apply_chat_template} does
 * (semantics of {@code @huggingface/jinja}: trim_blocks and lstrip_blocks on, {@code raise_exception}, {@code tojson},
 * {@code strftime_now}, Python string methods, loop controls). Immutable and thread-safe.
 */
public final class ChatTemplate {
    private final String source;
    private final JinjaTemplate template;

    private ChatTemplate(String source, JinjaTemplate template) {
        this.source = source;
        this.template = template;
    }

    /** Parses a template of unknown origin; a syntax error is a {@link ChatTemplateException}. */
    public static ChatTemplate of(String jinjaSource) {
        return of(jinjaSource, "chat template");
    }

    /**
     * Parses a template with the default sandbox {@link Limits}; {@code origin} names it in every
     * error, e.g. {@code "chat template in /m/tokenizer_config.json"}.
     */
    public static ChatTemplate of(String jinjaSource, String origin) {
        return of(jinjaSource, origin, Limits.DEFAULT);
    }

    /** Parses a template that will run inside {@code limits}; a syntax error is a {@link ChatTemplateException}. */
    public static ChatTemplate of(String jinjaSource, String origin, Limits limits) {
        try {
            return new ChatTemplate(jinjaSource, JinjaTemplate.parse(jinjaSource, origin, limits));
        } catch (JinjaException e) {
            throw new ChatTemplateException("chat template does not parse: " + e.getMessage(), e);
        }
    }

    /** The Jinja source. */
    public String source() {
        return source;
    }

    /**
     * Renders {@code messages} (each a map with {@code role}, {@code content}, ...) with {@code add_generation_prompt}
     * and any further variables (e.g. {@code bos_token}, {@code eos_token}, {@code tools}, {@code date_string}).
     *
     * @throws ChatTemplateException with exactly the template's message when it calls {@code raise_exception(msg)};
     *                               otherwise a message starting with the template's origin (a failure, or a
     *                               sandbox limit it broke, named)
     */
    public String render(List<Map<String, Object>> messages, boolean addGenerationPrompt,
                         Map<String, Object> extraVariables) {
        Map<String, Object> ctx = new LinkedHashMap<>();
        if (extraVariables != null) {
            ctx.putAll(extraVariables);
        }
        ctx.put("messages", messages == null ? List.of() : messages);
        ctx.put("add_generation_prompt", addGenerationPrompt);
        return renderContext(ctx);
    }

    /** Renders with a complete context (messages, add_generation_prompt and everything else). */
    public String renderContext(Map<String, Object> context) {
        try {
            return template.render(context);
        } catch (JinjaException e) {
            throw new ChatTemplateException(e.getMessage(), e);
        }
    }
}
