package dev.rudder.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static dev.rudder.cli.InspectCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BenchCommandTest {
    static final String TINY = InspectCommandTest.SHARED.resolve("models/tiny-llama-f32").toString();
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    /** Weight bytes per decoded token of tiny-llama-f32, from its config: 2 layers of q,k,v,o,gate,up,down plus the output matrix, F32. */
    static long tinyBytesPerToken() throws Exception {
        JsonNode c = JSON.readTree(Path.of(TINY, "config.json").toFile());
        long h = c.get("hidden_size").asLong();
        long inter = c.get("intermediate_size").asLong();
        long heads = c.get("num_attention_heads").asLong();
        long kvHeads = c.get("num_key_value_heads").asLong();
        long headDim = c.has("head_dim") ? c.get("head_dim").asLong() : h / heads;
        long kv = kvHeads * headDim;
        long q = heads * headDim;
        long perLayer = q * h + 2 * kv * h + h * q + 3 * inter * h;
        return 4 * (c.get("num_hidden_layers").asLong() * perLayer + c.get("vocab_size").asLong() * h);
    }

    @Test
    void jsonHasOneObjectPerThreadCount() throws Exception {
        InspectCommandTest.Result r = run("bench", "-m", TINY, "-p", "8", "-n", "4", "-t", "1,2", "-r", "2", "--json",
                "--bandwidth-mib", "8");
        assertEquals(0, r.code(), r.err());
        JsonNode arr = JSON.readTree(r.out());
        assertTrue(arr.isArray(), r.out());
        assertEquals(2, arr.size());
        long bytes = tinyBytesPerToken();
        for (int i = 0; i < 2; i++) {
            JsonNode o = arr.get(i);
            assertEquals(i + 1, o.get("threads").asInt());
            assertEquals(8, o.get("prompt_tokens").asInt());
            assertEquals(4, o.get("decode_tokens").asInt());
            assertEquals(2, o.get("repetitions").asInt());
            assertTrue(o.get("prefill_tokens_per_second").asDouble() > 0, o.toString());
            assertTrue(o.get("decode_tokens_per_second").asDouble() > 0, o.toString());
            assertTrue(o.get("prefill_tokens_per_second_stddev").asDouble() >= 0, o.toString());
            assertEquals(bytes, o.get("bytes_per_token").asLong());
            assertTrue(o.get("read_bandwidth_gbs").asDouble() > 0, o.toString());
            double fraction = o.get("decode_bandwidth_fraction").asDouble();
            double expected = o.get("decode_tokens_per_second").asDouble() * bytes / (o.get("read_bandwidth_gbs").asDouble() * 1e9);
            assertEquals(expected, fraction, 1e-9 * Math.max(1, expected));
        }
    }

    @Test
    void singleThreadCountPrintsOneObjectAndSkippedTestsAreNull() throws Exception {
        InspectCommandTest.Result r = run("bench", "-m", TINY, "-p", "0", "-n", "3", "-t", "1", "-r", "1", "--json",
                "--bandwidth-mib", "0");
        assertEquals(0, r.code(), r.err());
        JsonNode o = JSON.readTree(r.out());
        assertTrue(o.isObject(), r.out());
        assertTrue(o.get("prefill_tokens_per_second").isNull(), r.out());
        assertTrue(o.get("read_bandwidth_gbs").isNull(), r.out());
        assertTrue(o.get("decode_tokens_per_second").asDouble() > 0, r.out());
        assertEquals(0.0, o.get("decode_tokens_per_second_stddev").asDouble(), 0.0, "one repetition: no spread");
        assertEquals("f32", o.get("type_k").asText(), r.out());
        assertEquals("f32", o.get("type_v").asText(), r.out());
    }

    @Test
    void depthFillsTheCacheFirstAsLlamaBenchsDashD() throws Exception {
        InspectCommandTest.Result r = run("bench", "-m", TINY, "-d", "0,9", "-p", "4", "-n", "2", "-t", "1", "-r", "1",
                "--json", "--bandwidth-mib", "0");
        assertEquals(0, r.code(), r.err());
        JsonNode arr = JSON.readTree(r.out());
        assertEquals(2, arr.size(), r.out());
        assertEquals(0, arr.get(0).get("depth").asInt(), r.out());
        assertEquals(9, arr.get(1).get("depth").asInt(), r.out());
        for (JsonNode o : arr) {
            assertTrue(o.get("prefill_tokens_per_second").asDouble() > 0, o.toString());
            assertTrue(o.get("decode_tokens_per_second").asDouble() > 0, o.toString());
        }
        InspectCommandTest.Result text = run("bench", "-m", TINY, "-d", "9", "-p", "4", "-n", "2", "-t", "1", "-r", "1",
                "--bandwidth-mib", "0");
        assertEquals(0, text.code(), text.err());
        assertTrue(text.out().contains("pp4 @ d9"), text.out());
        assertTrue(text.out().contains("tg2 @ d13"), text.out());
        InspectCommandTest.Result tooDeep = run("bench", "-m", TINY, "-d", "2040", "-p", "4", "-n", "8", "-r", "1");
        assertEquals(2, tooDeep.code(), tooDeep.err());
        assertTrue(tooDeep.err().contains("-d 2040 plus -p 4 plus -n 8 needs a context of 2053 tokens"), tooDeep.err());
    }

    @Test
    void cacheTypesAreNamedAsLlamaBenchNamesThem() throws Exception {
        InspectCommandTest.Result r = run("bench", "-m", TINY, "-p", "6", "-n", "3", "-t", "1", "-r", "1", "--json",
                "--bandwidth-mib", "0", "-ctk", "f16", "--cache-type-v", "bf16");
        assertEquals(0, r.code(), r.err());
        JsonNode o = JSON.readTree(r.out());
        assertEquals("f16", o.get("type_k").asText(), r.out());
        assertEquals("bf16", o.get("type_v").asText(), r.out());
        assertTrue(o.get("decode_tokens_per_second").asDouble() > 0, r.out());
        InspectCommandTest.Result text = run("bench", "-m", TINY, "-p", "4", "-n", "2", "-t", "1", "-r", "1",
                "--bandwidth-mib", "0", "-ctk", "bf16", "-ctv", "bf16");
        assertEquals(0, text.code(), text.err());
        assertTrue(text.out().contains("KV cache k bf16, v bf16"), text.out());
    }

    @Test
    void textTableNamesTheTests() {
        InspectCommandTest.Result r = run("bench", "-m", TINY, "-p", "5", "-n", "2", "-t", "1", "-r", "1", "--bandwidth-mib", "8");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("pp5"), r.out());
        assertTrue(r.out().contains("tg2"), r.out());
        assertTrue(r.out().contains("of read bandwidth"), r.out());
        assertTrue(r.out().contains("per decoded token"), r.out());
    }

    @Test
    void listsOfPromptAndDecodeLengthsRunEveryPairAsLlamaBenchDoes() throws Exception {
        InspectCommandTest.Result r = run("bench", "-m", TINY, "-p", "4,8", "-n", "0,3", "-t", "1", "-r", "1", "--json",
                "--bandwidth-mib", "0");
        assertEquals(0, r.code(), r.err());
        JsonNode arr = JSON.readTree(r.out());
        assertEquals(4, arr.size(), r.out());
        int[][] pairs = {{4, 0}, {4, 3}, {8, 0}, {8, 3}};
        for (int i = 0; i < 4; i++) {
            JsonNode o = arr.get(i);
            assertEquals(pairs[i][0], o.get("prompt_tokens").asInt(), o.toString());
            assertEquals(pairs[i][1], o.get("decode_tokens").asInt(), o.toString());
            assertTrue(o.get("prefill_tokens_per_second").asDouble() > 0, o.toString());
            assertEquals(pairs[i][1] == 0, o.get("decode_tokens_per_second").isNull(), o.toString());
        }
        InspectCommandTest.Result text = run("bench", "-m", TINY, "-p", "0,6", "-n", "2", "-t", "1", "-r", "1",
                "--bandwidth-mib", "0");
        assertEquals(0, text.code(), text.err());
        assertTrue(text.out().contains("tg2 @ d6"), text.out());
        assertTrue(text.out().contains("pp6"), text.out());
        assertFalse(text.out().contains("pp0"), text.out());
    }

    @Test
    void badOptionsAreUsageErrors() {
        String[][] bad = {
                {"-p", "-1"}, {"-n", "-2"}, {"-p", "0", "-n", "0"}, {"-r", "0"}, {"-t", "0"}, {"-t", "1,x"},
                {"--bandwidth-mib", "-1"}, {"-p", "100000"}, {"-p", "4,-1"}, {"-p", "0,0", "-n", "0"}, {"-n", "2,x"},
                {"-p", "8,100000", "-n", "1"}, {"-ctk", "f8"}, {"--cache-type-v", ""}, {"-d", "-1"}, {"-d", "x"},
        };
        for (String[] b : bad) {
            String[] args = new String[b.length + 3];
            args[0] = "bench";
            args[1] = "-m";
            args[2] = TINY;
            System.arraycopy(b, 0, args, 3, b.length);
            InspectCommandTest.Result r = run(args);
            assertEquals(2, r.code(), String.join(" ", b) + ": " + r.err());
            assertFalse(r.err().contains("Exception"), r.err());
        }
    }

    @Test
    void missingModelIsBadInput() {
        InspectCommandTest.Result r = run("bench", "-m", tmp.resolve("nothing").toString(), "-r", "1");
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("nothing"), r.err());
        assertFalse(r.err().contains("Exception"), r.err());
    }
}
