package dev.rudder.server;

import java.time.Duration;

/**
 * How {@code rudder serve} runs.
 *
 * @param host            address to bind (127.0.0.1 unless the operator says otherwise)
 * @param port            TCP port, 0 = any free port
 * @param modelId         the model name reported by /v1/models and in responses
 * @param defaultProfile  profile for requests that name none, or null (unsteered)
 * @param allowUnsteered  whether a request may ask for profile "none" when there is a default
 * @param maxConcurrent   sequences decoded together at most
 * @param queue           requests waiting for a slot at most (more get 429)
 * @param context         KV-cache positions per request at most (prompt + generated)
 * @param apiKey          bearer key required on /v1/*, or null
 * @param timeLimit       per-request time limit, queue time included
 * @param maxBodyBytes    largest request body accepted
 * @param prefillChunk    prompt tokens prefilled between two decode steps
 * @param shutdownGrace   how long shutdown waits for requests in flight
 */
public record ServerOptions(String host, int port, String modelId, String defaultProfile, boolean allowUnsteered,
                            int maxConcurrent, int queue, int context, String apiKey, Duration timeLimit,
                            long maxBodyBytes, int prefillChunk, Duration shutdownGrace) {

    /** Loopback, any free port, 8 sequences, 32 waiting, 5-minute limit, 1 MiB bodies, 256-token prefill chunks. */
    public static ServerOptions defaults(String modelId, int context) {
        return new ServerOptions("127.0.0.1", 0, modelId, null, false, 8, 32, context, null, Duration.ofMinutes(5),
                1 << 20, 256, Duration.ofSeconds(10));
    }

    public ServerOptions withPort(int p) {
        return new ServerOptions(host, p, modelId, defaultProfile, allowUnsteered, maxConcurrent, queue, context, apiKey,
                timeLimit, maxBodyBytes, prefillChunk, shutdownGrace);
    }

    public ServerOptions withProfiles(String defaultName, boolean unsteeredAllowed) {
        return new ServerOptions(host, port, modelId, defaultName, unsteeredAllowed, maxConcurrent, queue, context, apiKey,
                timeLimit, maxBodyBytes, prefillChunk, shutdownGrace);
    }

    public ServerOptions withLimits(int concurrent, int queued, Duration limit) {
        return new ServerOptions(host, port, modelId, defaultProfile, allowUnsteered, concurrent, queued, context, apiKey,
                limit, maxBodyBytes, prefillChunk, shutdownGrace);
    }

    public ServerOptions withApiKey(String key) {
        return new ServerOptions(host, port, modelId, defaultProfile, allowUnsteered, maxConcurrent, queue, context, key,
                timeLimit, maxBodyBytes, prefillChunk, shutdownGrace);
    }

    public ServerOptions withPrefillChunk(int chunk) {
        return new ServerOptions(host, port, modelId, defaultProfile, allowUnsteered, maxConcurrent, queue, context, apiKey,
                timeLimit, maxBodyBytes, chunk, shutdownGrace);
    }

    public ServerOptions withMaxBody(long bytes) {
        return new ServerOptions(host, port, modelId, defaultProfile, allowUnsteered, maxConcurrent, queue, context, apiKey,
                timeLimit, bytes, prefillChunk, shutdownGrace);
    }
}
