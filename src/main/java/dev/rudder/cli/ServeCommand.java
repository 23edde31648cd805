package dev.rudder.cli;

import dev.rudder.Rudder;
import dev.rudder.steering.delta.DeltaSet;
import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.backend.KvCacheTypes;
import dev.rudder.server.RudderServer;
import dev.rudder.server.ServerOptions;
import dev.rudder.server.SteeringProfiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Callable;

/** {@code rudder serve}: the OpenAI HTTP API with per-request steering profiles, until interrupted. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve the model over OpenAI's HTTP API (/v1/chat/completions, /v1/completions, /v1/models), "
                + "with steering profiles chosen per request, /health, /metrics and a chat page at /.")
final class ServeCommand implements Callable<Integer> {

    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "address to listen on (default ${DEFAULT-VALUE}; 0.0.0.0 for all)")
    String host;

    @Option(names = "--port", defaultValue = "8080", description = "TCP port (default ${DEFAULT-VALUE}; 0 = any free port)")
    int port;

    @Option(names = "--profiles", paramLabel = "FILE",
            description = "JSON file of named steering setups: {\"safe\": {\"steer\": \"srv.safetensors\", \"scale\": 16, "
                    + "\"layers\": \"1-3\", \"normalize\": true, \"gate\": \"gate.safetensors\", \"positions\": \"prompt\"}}; "
                    + "paths are relative to the file")
    Path profilesFile;

    @Option(names = "--default-profile", paramLabel = "NAME", description = "profile for requests that name none")
    String defaultProfile;

    @Option(names = "--allow-unsteered", description = "let requests ask for profile \"none\" when there is a default profile")
    boolean allowUnsteered;

    @Option(names = "--max-concurrent", defaultValue = "8", description = "requests decoded together at most (default ${DEFAULT-VALUE})")
    int maxConcurrent;

    @Option(names = "--queue", defaultValue = "32", description = "requests waiting for a slot at most; more get 429 (default ${DEFAULT-VALUE})")
    int queue;

    @Option(names = "--context",
            description = "tokens per request, prompt and answer, 1 to the model's max_position_embeddings (default: the model's maximum, at most 4096)")
    Integer context;

    @Option(names = "--api-key", paramLabel = "KEY", description = "require Authorization: Bearer KEY on /v1/* (default: env RUDDER_API_KEY, else none)")
    String apiKey;

    @Option(names = "--timeout", defaultValue = "300", description = "per-request time limit in seconds, queue included (default ${DEFAULT-VALUE})")
    int timeoutSeconds;

    @Option(names = "--max-body", defaultValue = "1048576", description = "largest request body in bytes (default ${DEFAULT-VALUE})")
    long maxBody;

    @Option(names = "--prefill-chunk", defaultValue = "256",
            description = "prompt tokens prefilled between two decode steps, so running streams keep flowing (default ${DEFAULT-VALUE})")
    int prefillChunk;

    @Option(names = "--delta", paramLabel = "FILE:LAMBDA", description = "alignment vector merged for every request (server-wide: it changes the weights)")
    List<String> deltas = new ArrayList<>();

    @Override
    public Integer call() throws InterruptedException {
        if (port < 0 || port > 65535) {
            throw new BadInputException("--port must be in 0..65535, got " + port);
        }
        if (timeoutSeconds < 1 || maxBody < 1) {
            throw new BadInputException("--timeout and --max-body must be positive");
        }
        if (allowUnsteered && defaultProfile == null) {
            throw new BadInputException("--allow-unsteered only matters with --default-profile");
        }
        String key = apiKey != null ? apiKey : System.getenv("RUDDER_API_KEY");
        Rudder rudder = Rudder.load(modelOptions.model, modelOptions.loadOptions()
                .withDeltas(deltas.stream().map(DeltaSet.Spec::parse).toList()));
        try {
            if (defaultProfile != null && profilesFile == null) {
                throw new BadInputException("--default-profile needs --profiles FILE");
            }
            SteeringProfiles profiles = profilesFile == null ? SteeringProfiles.empty()
                    : SteeringProfiles.read(profilesFile, rudder.config());
            int maxPos = rudder.config().maxPositionEmbeddings();
            Integer requested = Bounds.context(context, rudder.config());
            int ctx = requested != null ? requested : maxPos > 0 ? Math.min(maxPos, 4096) : 4096;
            String modelId = rudder.model().directory().getFileName().toString();
            ServerOptions options = new ServerOptions(host, port, modelId, defaultProfile, allowUnsteered, maxConcurrent,
                    queue, ctx, key == null || key.isEmpty() ? null : key, Duration.ofSeconds(timeoutSeconds), maxBody,
                    prefillChunk, Duration.ofSeconds(Math.min(timeoutSeconds, 30)));
            RudderServer server = RudderServer.start(rudder, profiles, options);
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                System.err.println("rudder serve: shutting down (finishing requests in flight)");
                server.close();
                rudder.close();
                stopped.countDown();
            }));
            var cfg = rudder.config();
            KvCacheTypes cache = modelOptions.kvCache();
            long kvBytes = cache.bytesPerPosition(cfg) * ctx * maxConcurrent;
            System.err.printf("rudder serve: %s on http://%s:%d/ (profiles: %s; default: %s; context %d; %d concurrent, queue %d; "
                            + "KV caches (%s) up to %d MiB%s)%n",
                    modelId, host, server.port(), profiles.names().isEmpty() ? "none" : String.join(", ", profiles.names()),
                    defaultProfile == null ? "unsteered" : defaultProfile, ctx, maxConcurrent, queue, cache, kvBytes >> 20,
                    options.apiKey() != null ? ", API key required" : "");
            stopped.await();
            return 0;
        } catch (RuntimeException e) {
            rudder.close();
            throw e;
        }
    }
}
