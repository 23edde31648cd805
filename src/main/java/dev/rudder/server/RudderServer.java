package dev.rudder.server;

import dev.rudder.Rudder;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.http.staticfiles.Location;
import org.eclipse.jetty.server.ServerConnector;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;

/**
 * {@code rudder serve}: the OpenAI HTTP API over one loaded model, on Javalin (Jetty, a virtual
 * thread per request). Every request carries its own steering profile; all requests share the
 * {@link Scheduler}, which decodes them together. Stateless between requests: replicas behind any
 * HTTP load balancer scale out, with {@code /health} for readiness and {@code /metrics} for Prometheus.
 *
 * <pre>{@code
 * try (RudderServer s = RudderServer.start(rudder, profiles, ServerOptions.defaults("m", 2048))) {
 *     System.out.println("http://127.0.0.1:" + s.port());
 * }
 * }</pre>
 */
public final class RudderServer implements AutoCloseable {
    private final Javalin app;
    private final Scheduler scheduler;
    private final Metrics metrics;
    private final ServerOptions options;
    private volatile boolean closed;

    private RudderServer(Javalin app, Scheduler scheduler, Metrics metrics, ServerOptions options) {
        this.app = app;
        this.scheduler = scheduler;
        this.metrics = metrics;
        this.options = options;
    }

    /** Starts serving {@code rudder} (which stays owned by the caller) with the given profiles. */
    public static RudderServer start(Rudder rudder, SteeringProfiles profiles, ServerOptions options) {
        return start(rudder, profiles, options, BatchDecoder.batched(rudder.model()));
    }

    static RudderServer start(Rudder rudder, SteeringProfiles profiles, ServerOptions options, BatchDecoder decoder) {
        if (options.defaultProfile() != null && !profiles.contains(options.defaultProfile())) {
            throw new dev.rudder.runtime.BadInputException("--default-profile " + options.defaultProfile()
                    + " is not in the profiles file (it has: " + String.join(", ", profiles.names()) + ")");
        }
        Metrics metrics = new Metrics();
        Scheduler scheduler = new Scheduler(rudder, decoder, metrics, options.maxConcurrent(), options.queue(),
                options.prefillChunk());
        CompletionEndpoint completions = new CompletionEndpoint(rudder, profiles, options, scheduler, metrics);
        long created = System.currentTimeMillis() / 1000;
        long idleMillis = options.timeLimit().toMillis() + 30_000;
        Javalin app = Javalin.create(config -> {
            config.useVirtualThreads = true;
            config.showJavalinBanner = false;
            config.startupWatcherEnabled = false;
            config.http.maxRequestSize = options.maxBodyBytes();
            config.http.disableCompression();   // server-sent events must reach the client as written
            config.staticFiles.add(sf -> {
                sf.hostedPath = "/";
                sf.directory = "/dev/rudder/server/web";
                sf.location = Location.CLASSPATH;
            });
            config.jetty.addConnector((server, http) -> {
                ServerConnector c = new ServerConnector(server, new org.eclipse.jetty.server.HttpConnectionFactory(http));
                c.setHost(options.host());
                c.setPort(options.port());
                c.setIdleTimeout(idleMillis);   // a long non-streamed answer is silent until it is done
                return c;
            });
        });
        app.before("/v1/*", ctx -> authorize(ctx, options.apiKey()));
        app.get("/health", ctx -> ctx.contentType("application/json").result("{\"status\":\"ok\"}"));
        app.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(metrics.render()));
        app.get("/v1/models", ctx -> ctx.contentType("application/json")
                .result(CompletionEndpoint.json(OpenAiResponses.models(options.modelId(), created, profiles.names()))));
        app.get("/v1/models/{id}", ctx -> {
            if (!ctx.pathParam("id").equals(options.modelId())) {
                throw new ApiException(404, "not_found", "model", "no model '" + ctx.pathParam("id") + "'; this server has '"
                        + options.modelId() + "'");
            }
            ctx.contentType("application/json").result(CompletionEndpoint.json(OpenAiResponses.model(options.modelId(), created,
                    profiles.names())));
        });
        app.post("/v1/chat/completions", ctx -> completions.handle(ctx, OpenAiRequest.Endpoint.CHAT));
        app.post("/v1/completions", ctx -> completions.handle(ctx, OpenAiRequest.Endpoint.COMPLETIONS));
        app.exception(ApiException.class, (e, ctx) -> answer(ctx, e));
        app.exception(HttpResponseException.class, (e, ctx) -> answer(ctx, fromJavalin(e, options.maxBodyBytes())));
        try {
            app.start();
        } catch (RuntimeException e) {
            scheduler.close();
            throw new dev.rudder.runtime.BadInputException("cannot listen on " + options.host() + ":" + options.port()
                    + ": " + e.getMessage(), e);
        }
        return new RudderServer(app, scheduler, metrics, options);
    }

    /** Javalin's own errors (404, 413 body too large, ...) in OpenAI's error shape. */
    private static ApiException fromJavalin(HttpResponseException e, long maxBody) {
        return switch (e.getStatus()) {
            case 413 -> new ApiException(413, "request_too_large", null, "the request body is larger than " + maxBody + " bytes");
            case 404 -> new ApiException(404, "not_found", null, e.getMessage());
            default -> new ApiException(e.getStatus(), "invalid_request_error", null, e.getMessage());
        };
    }

    private static void authorize(Context ctx, String key) {
        if (key == null) {
            return;
        }
        String h = ctx.header("Authorization");
        String given = h != null && h.regionMatches(true, 0, "Bearer ", 0, 7) ? h.substring(7).trim() : "";
        if (!MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), key.getBytes(StandardCharsets.UTF_8))) {
            ctx.header("WWW-Authenticate", "Bearer");
            throw new ApiException(401, "invalid_api_key", null, h == null
                    ? "this server needs an API key: send the header Authorization: Bearer KEY" : "the API key is not valid");
        }
    }

    private static void answer(Context ctx, ApiException e) {
        if (e.status == 429) {
            ctx.header("Retry-After", "1");
        }
        ctx.status(e.status).contentType("application/json").result(CompletionEndpoint.json(OpenAiResponses.error(e)));
    }

    /** The port it listens on (the chosen one when started with port 0). */
    public int port() {
        return app.port();
    }

    String host() {
        return options.host();
    }

    Metrics metrics() {
        return metrics;
    }

    Scheduler scheduler() {
        return scheduler;
    }

    /** Graceful stop: no new requests, those in flight get up to the shutdown grace, then the listener closes. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        scheduler.shutdown(options.shutdownGrace());
        app.stop();
    }

    /** Stops with a different grace period (e.g. zero in tests). */
    public void close(Duration grace) {
        if (closed) {
            return;
        }
        closed = true;
        scheduler.shutdown(grace);
        app.stop();
    }
}
