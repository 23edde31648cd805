package dev.rudder.steering.delta;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.io.ModelConfig;
import dev.rudder.runtime.io.SafeTensorsFile;
import dev.rudder.runtime.io.SafeTensorsWriter;
import dev.rudder.runtime.io.TensorInfo;
import dev.rudder.runtime.io.TensorStore;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class AlignmentDeltaTest {

    static Path shared() {
        return Path.of(System.getProperty("rudder.shared", "../../shared")).toAbsolutePath();
    }

    static final Path ALIGNED = shared().resolve("models/rudder-chat/aligned");
    static final Path BASE = shared().resolve("models/rudder-chat/base");
    static final Path TARGET = shared().resolve("models/rudder-chat/target");

    @TempDir
    static Path dir;
    static Path delta;
    static AlignmentDelta.Result result;

    @BeforeAll
    static void computeDelta() throws Exception {
        delta = dir.resolve("delta.safetensors");
        List<String> seen = new ArrayList<>();
        result = AlignmentDelta.compute(ALIGNED, BASE, delta, (done, total, name, e, et) -> {
            seen.add(name);
            assertEquals(seen.size(), done);
            assertTrue(e <= et);
        });
        assertEquals(result.tensorCount(), seen.size());
    }

    @Test
    void deltaIsExactlyAlignedMinusBaseAndCarriesMetadata() {
        try (TensorStore a = TensorStore.open(ALIGNED); TensorStore b = TensorStore.open(BASE);
             SafeTensorsFile d = SafeTensorsFile.open(delta)) {
            assertEquals(a.all().size(), d.tensors().size());
            long elements = 0;
            for (TensorInfo ta : a.all()) {
                TensorInfo td = d.tensor(ta.name());
                assertArrayEquals(ta.shape(), td.shape(), ta.name());
                float[] x = ta.toFloats();
                float[] y = b.require(ta.name()).toFloats();
                float[] z = td.toFloats();
                for (int i = 0; i < x.length; i++) {
                    assertEquals(Float.floatToRawIntBits(x[i] - y[i]), Float.floatToRawIntBits(z[i]), ta.name());
                }
                elements += x.length;
            }
            assertEquals(elements, result.elementCount());
            assertEquals("alignment-delta", d.metadata().get("rudder.kind"));
            assertEquals("LlamaForCausalLM", d.metadata().get("rudder.architecture"));
            assertEquals("192", d.metadata().get("rudder.hidden_size"));
            assertEquals("6", d.metadata().get("rudder.num_layers"));
            assertTrue(result.maxAbs() > 0);
        }
    }

    @Test
    void baseMergedWithLambdaOneIsAlignedWithinRounding() {
        try (TensorStore a = TensorStore.open(ALIGNED); TensorStore b = TensorStore.open(BASE);
             DeltaSet ds = DeltaSet.open(delta, 1f)) {
            ds.checkCompatible(ModelConfig.read(BASE.resolve("config.json")), b);
            double worst = 0;
            long exact = 0;
            long n = 0;
            for (TensorInfo tb : b.all()) {
                assertTrue(ds.touches(tb.name()));
                float[] merged = ds.merged(tb.name(), tb.toFloats());
                float[] x = a.require(tb.name()).toFloats();
                for (int i = 0; i < x.length; i++) {
                    worst = Math.max(worst, Math.abs(merged[i] - x[i]));
                    exact += merged[i] == x[i] ? 1 : 0;
                }
                n += x.length;
            }
            assertTrue(worst <= 1.5e-8, "max |base + delta - aligned| = " + worst);
            assertTrue(exact > n * 0.9, exact + " of " + n + " exact");
        }
    }

    @Test
    void lambdaZeroIsBaseBitForBitAndRoundingOrderIsTwoStep() {
        try (TensorStore b = TensorStore.open(BASE); SafeTensorsFile d = SafeTensorsFile.open(delta);
             DeltaSet ds = DeltaSet.open(delta, 0f)) {
            String name = "model.layers.2.mlp.down_proj.weight";
            float[] base = b.require(name).toFloats();
            float[] merged = ds.merged(name, base);
            assertArrayEquals(base, merged);
            ds.setLambda(0, 0.3f);
            float[] dv = d.tensor(name).toFloats();
            float[] m = ds.merged(name, base);
            for (int i = 0; i < m.length; i++) {
                float scaled = 0.3f * dv[i];
                assertEquals(Float.floatToRawIntBits(base[i] + scaled), Float.floatToRawIntBits(m[i]));
            }
            assertSame(base, ds.apply(name, base));
        }
    }

    @Test
    void setLambdaRemergesHandedOutArraysInPlace() {
        try (TensorStore b = TensorStore.open(BASE); DeltaSet ds = DeltaSet.open(delta, 1f)) {
            ds.checkCompatible(ModelConfig.read(BASE.resolve("config.json")), b);
            String name = "model.embed_tokens.weight";
            float[] arr = ds.apply(name, b.require(name).toFloats());
            float[] one = arr.clone();
            ds.setLambda(0, 0.5f);
            float[] half = ds.merged(name, b.require(name).toFloats());
            assertArrayEquals(half, arr);
            ds.setLambdas(1f);
            assertArrayEquals(one, arr);
            ds.setLambda(0, 0f);
            assertArrayEquals(b.require(name).toFloats(), arr);
            assertThrows(BadInputException.class, () -> ds.setLambda(0, Float.NaN));
        }
    }

    @Test
    void remergeNeedsBoundBase() {
        try (TensorStore b = TensorStore.open(BASE); DeltaSet ds = DeltaSet.open(delta, 1f)) {
            String name = "model.norm.weight";
            ds.apply(name, b.require(name).toFloats());
            assertThrows(IllegalStateException.class, () -> ds.setLambda(0, 2f));
            ds.checkCompatible(BASE);
            ds.setLambda(0, 2f);
        }
    }

    @Test
    void deltaForAnotherArchitectureIsRejected() {
        Path tiny = shared().resolve("models/tiny-llama-f32");
        try (DeltaSet ds = DeltaSet.open(delta, 0.5f)) {
            BadInputException e = assertThrows(BadInputException.class, () -> ds.checkCompatible(tiny));
            assertTrue(e.getMessage().contains("hidden_size") && e.getMessage().contains("delta.safetensors"),
                    e.getMessage());
        }
    }

    @Test
    void specParsing() {
        assertEquals(new DeltaSet.Spec(Path.of("d.safetensors"), 0.5f), DeltaSet.Spec.parse("d.safetensors:0.5"));
        assertEquals(new DeltaSet.Spec(Path.of("d.safetensors"), 1f), DeltaSet.Spec.parse("d.safetensors"));
        assertEquals(new DeltaSet.Spec(Path.of("a:b.st"), -2e-1f), DeltaSet.Spec.parse("a:b.st:-2e-1"));
        assertThrows(BadInputException.class, () -> DeltaSet.Spec.parse("d.safetensors:NaN"));
        assertThrows(BadInputException.class, () -> DeltaSet.Spec.parse(""));
    }

    // ---- mismatching models ----

    /** A copy of the base model folder with an edited config and optionally one tensor reshaped or dropped. */
    static Path variant(String name, java.util.function.Consumer<ObjectNode> config, String tensor, long[] newShape)
            throws Exception {
        Path out = dir.resolve(name);
        Files.createDirectories(out);
        ObjectMapper json = new ObjectMapper();
        ObjectNode cfg = (ObjectNode) json.readTree(BASE.resolve("config.json").toFile());
        config.accept(cfg);
        json.writeValue(out.resolve("config.json").toFile(), cfg);
        try (SafeTensorsFile st = SafeTensorsFile.open(BASE.resolve("model.safetensors"))) {
            SafeTensorsWriter w = new SafeTensorsWriter(st.metadata());
            for (TensorInfo t : st.tensors()) {
                if (t.name().equals(tensor)) {
                    if (newShape != null) {
                        w.add(t.name(), t.dtype(), t.data(), newShape);
                    }
                } else {
                    w.add(t);
                }
            }
            w.write(out.resolve("model.safetensors"));
        }
        return out;
    }

    @Test
    void configMismatchNamesTheField() throws Exception {
        Path other = variant("arch", c -> c.putArray("architectures").add("MistralForCausalLM"), null, null);
        BadInputException e = assertThrows(BadInputException.class,
                () -> AlignmentDelta.compute(ALIGNED, other, dir.resolve("x.safetensors")));
        assertTrue(e.getMessage().contains("architectures") && e.getMessage().contains("MistralForCausalLM"),
                e.getMessage());
        Path wide = variant("kv", c -> c.put("num_key_value_heads", 3), null, null);
        e = assertThrows(BadInputException.class,
                () -> AlignmentDelta.compute(ALIGNED, wide, dir.resolve("x.safetensors")));
        assertTrue(e.getMessage().contains("num_key_value_heads"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("x.safetensors")));
    }

    @Test
    void shapeMismatchNamesTheTensor() throws Exception {
        String k = "model.layers.3.self_attn.k_proj.weight";
        Path reshaped = variant("shape", c -> { }, k, new long[] {192, 64});
        BadInputException e = assertThrows(BadInputException.class,
                () -> AlignmentDelta.compute(ALIGNED, reshaped, dir.resolve("y.safetensors")));
        assertTrue(e.getMessage().contains(k) && e.getMessage().contains("[192, 64]"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("y.safetensors")));
        // the same delta against that model when applying
        try (TensorStore s = TensorStore.open(reshaped); DeltaSet ds = DeltaSet.open(delta, 1f)) {
            e = assertThrows(BadInputException.class,
                    () -> ds.checkCompatible(ModelConfig.read(reshaped.resolve("config.json")), s));
            assertTrue(e.getMessage().contains(k), e.getMessage());
        }
    }

    @Test
    void missingTensorNamesTheTensor() throws Exception {
        String n = "model.layers.5.post_attention_layernorm.weight";
        Path missing = variant("missing", c -> { }, n, null);
        BadInputException e = assertThrows(BadInputException.class,
                () -> AlignmentDelta.compute(ALIGNED, missing, dir.resolve("z.safetensors")));
        assertTrue(e.getMessage().contains(n) && e.getMessage().contains("missing"), e.getMessage());
        e = assertThrows(BadInputException.class,
                () -> AlignmentDelta.compute(missing, ALIGNED, dir.resolve("z.safetensors")));
        assertTrue(e.getMessage().contains(n), e.getMessage());
    }

    @Test
    void notADeltaIsRejected() throws Exception {
        Path vec = shared().resolve("golden/steering/apply/tiny-llama-f32.vectors.safetensors");
        // a vectors file has no rudder.kind: it opens, but does not fit the model
        try (DeltaSet ds = DeltaSet.open(vec, 1f)) {
            assertThrows(BadInputException.class, () -> ds.checkCompatible(BASE));
        }
        Path kinded = dir.resolve("kind.safetensors");
        new SafeTensorsWriter(java.util.Map.of("rudder.kind", "steering-vectors")).add("x", new float[2]).write(kinded);
        assertThrows(BadInputException.class, () -> DeltaSet.open(kinded, 1f));
    }
}
