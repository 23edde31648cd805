package dev.rudder.runtime.cuda;

import dev.rudder.runtime.BadInputException;

/**
 * A CUDA driver call failed, or there is no usable driver/GPU. Carries the driver's own error
 * name and text ({@code cuGetErrorName}/{@code cuGetErrorString}) and the call that failed, so
 * the message alone says what went wrong. The command line reports it like any bad input
 * (exit 1, message only): a missing driver or GPU is something the user fixes.
 */
public final class CudaException extends BadInputException {
    private final int code;
    private final String errorName;

    public CudaException(String message) {
        super(message);
        this.code = -1;
        this.errorName = null;
    }

    CudaException(String call, int code, String errorName, String errorText) {
        super(call + " failed: " + errorName + " (" + code + "): " + errorText);
        this.code = code;
        this.errorName = errorName;
    }

    /** The CUresult, or -1 when the failure did not come from a driver call. */
    public int code() {
        return code;
    }

    /** The driver's name for the error (e.g. {@code CUDA_ERROR_OUT_OF_MEMORY}), or null. */
    public String errorName() {
        return errorName;
    }
}
