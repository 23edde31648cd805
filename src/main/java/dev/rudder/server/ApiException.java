package dev.rudder.server;

/**
 * An error answered to the client in OpenAI's shape {@code {"error": {"message", "type", "param", "code"}}}
 * with an HTTP status: 400 bad request, 401 missing key, 403 forbidden profile, 429 queue full, ...
 */
final class ApiException extends RuntimeException {
    final int status;
    final String type;
    final String param;

    ApiException(int status, String type, String param, String message) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
    }

    static ApiException badRequest(String param, String message) {
        return new ApiException(400, "invalid_request_error", param, message);
    }
}
