package dev.rudder.server;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code rudder serve} refuses bad set-ups before serving: exit 1 and a message naming the file, profile or option. */
class ServeCommandTest {
    @TempDir
    Path tmp;

    private ServerFixture.Cli serve(String... extra) {
        String[] args = new String[extra.length + 5];
        args[0] = "serve";
        args[1] = "-m";
        args[2] = ServerFixture.TARGET.toString();
        args[3] = "--threads";
        args[4] = "1";
        System.arraycopy(extra, 0, args, 5, extra.length);
        return ServerFixture.rudder(args);
    }

    @Test
    void badProfilesFilesNameTheFileTheProfileAndTheField() throws Exception {
        Path p = tmp.resolve("profiles.json");
        Files.writeString(p, "{\"safe\": {\"steer\": \"v.safetensors\", \"sacle\": 4}}");
        ServerFixture.Cli typo = serve("--profiles", p.toString());
        assertEquals(1, typo.code(), typo.err());
        assertTrue(typo.err().contains("profile \"safe\": unknown field \"sacle\""), typo.err());

        Files.writeString(p, "{\"safe\": {\"steer\": \"missing.safetensors\"}}");
        ServerFixture.Cli missing = serve("--profiles", p.toString());
        assertEquals(1, missing.code(), missing.err());
        assertTrue(missing.err().contains(tmp.resolve("missing.safetensors").toString()), missing.err());

        Files.writeString(p, "{\"none\": {\"steer\": \"v.safetensors\"}}");
        ServerFixture.Cli reserved = serve("--profiles", p.toString());
        assertEquals(1, reserved.code(), reserved.err());
        assertTrue(reserved.err().contains("reserved"), reserved.err());

        Files.writeString(p, "{\"safe\": ");
        ServerFixture.Cli json = serve("--profiles", p.toString());
        assertEquals(1, json.code(), json.err());
        assertTrue(json.err().contains("not valid JSON"), json.err());
    }

    @Test
    void aDefaultProfileMustExistAndTheHostAndPortMustBeFree() throws Exception {
        ServerFixture.Cli unknown = serve("--profiles", ServerFixture.profilesFile().toString(), "--default-profile", "strict");
        assertEquals(1, unknown.code(), unknown.err());
        assertTrue(unknown.err().contains("--default-profile strict is not in the profiles file (it has: safe, always)"), unknown.err());

        ServerFixture.Cli noFile = serve("--default-profile", "safe");
        assertEquals(1, noFile.code(), noFile.err());
        assertTrue(noFile.err().contains("--default-profile needs --profiles"), noFile.err());

        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            ServerFixture.Cli busy = serve("--port", Integer.toString(taken.getLocalPort()));
            assertEquals(1, busy.code(), busy.err());
            assertTrue(busy.err().contains("cannot listen on 127.0.0.1:" + taken.getLocalPort()), busy.err());
        }
    }
}
