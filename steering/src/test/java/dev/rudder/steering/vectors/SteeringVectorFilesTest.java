package dev.rudder.steering.vectors;

import dev.rudder.runtime.BadInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class SteeringVectorFilesTest {

    @TempDir
    Path tmp;

    @Test
    void safetensorsRoundTripIsExactWithMetadata() throws Exception {
        SteeringVectors v = SteeringVectors.of(TestData.randomVectors(3, 192, 0, 1, 2, 5), TestData.fullMetadata(),
                "x");
        Path f = tmp.resolve("v.safetensors");
        SteeringVectorFiles.write(f, v);
        SteeringVectors back = SteeringVectorFiles.read(f);
        assertEquals(v, back);
        assertEquals(f.toString(), back.source());
    }

    @Test
    void formatIsSniffedByContentNotName() throws Exception {
        SteeringVectors v = SteeringVectors.of(TestData.randomVectors(4, 16, 2, 3), TestData.fullMetadata(), "x");
        Path ggufNamedOdd = tmp.resolve("vectors.bin");
        SteeringVectorFiles.write(ggufNamedOdd, v, SteeringVectorFiles.Format.GGUF);
        assertEquals(SteeringVectorFiles.Format.GGUF, SteeringVectorFiles.sniff(ggufNamedOdd));
        assertEquals(v, SteeringVectorFiles.read(ggufNamedOdd));
        Path stNamedGguf = tmp.resolve("lies.gguf");
        SteeringVectorFiles.write(stNamedGguf, v, SteeringVectorFiles.Format.SAFETENSORS);
        assertEquals(SteeringVectorFiles.Format.SAFETENSORS, SteeringVectorFiles.sniff(stNamedGguf));
        assertEquals(v, SteeringVectorFiles.read(stNamedGguf));
    }

    @Test
    void goldenGgufConvertedToSafetensorsAndBackIsByteIdentical() throws Exception {
        Path golden = TestData.golden("apply/rudder-chat-target.controlvector.gguf");
        SteeringVectors g = SteeringVectorFiles.read(golden);
        Path st = tmp.resolve("cv.safetensors");
        SteeringVectorFiles.write(st, g);
        SteeringVectors s = SteeringVectorFiles.read(st);
        assertEquals(g, s);
        Path back = tmp.resolve("cv.gguf");
        SteeringVectorFiles.write(back, s);
        assertArrayEquals(Files.readAllBytes(golden), Files.readAllBytes(back));
    }

    @Test
    void goldenSafetensorsKeepsForeignMetadata() throws Exception {
        SteeringVectors v = SteeringVectorFiles.read(TestData.golden("apply/tiny-llama-f32.vectors.safetensors"));
        assertTrue(v.metadata().extra().get("generator").startsWith("numpy"));
        assertNull(v.metadata().modelHint());
        assertEquals(64, v.hiddenSize());
        Path f = tmp.resolve("t.gguf");
        SteeringVectorFiles.write(f, v);
        assertEquals(v.metadata().extra(), SteeringVectorFiles.read(f).metadata().extra());
    }

    @Test
    void extractionGoldenNormsMatchTheReadme() throws Exception {
        SteeringVectors a = SteeringVectorFiles.read(
                TestData.golden("extraction/rudder-chat-aligned.mean_diff.safetensors"));
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5}, a.layers());
        double[] norms = {4.09, 6.79, 7.20, 22.5, 61.2, 82.3};
        for (int l = 0; l < 6; l++) {
            assertEquals(norms[l], a.norm(l), 0.006 * norms[l], "layer " + l);
        }
        a.checkCompatible(192, 6);
    }

    @Test
    void badFilesAreBadInput() throws Exception {
        Path text = tmp.resolve("a.safetensors");
        Files.writeString(text, "just text, definitely not tensors");
        assertThrows(BadInputException.class, () -> SteeringVectorFiles.read(text));
        Path empty = tmp.resolve("e.gguf");
        Files.write(empty, new byte[0]);
        assertThrows(BadInputException.class, () -> SteeringVectorFiles.read(empty));
        assertThrows(NoSuchFileException.class, () -> SteeringVectorFiles.read(tmp.resolve("missing.gguf")));
        SteeringVectors v = SteeringVectors.of(TestData.randomVectors(4, 16, 2), null, "x");
        assertThrows(BadInputException.class, () -> SteeringVectorFiles.write(tmp.resolve("v.txt"), v));
    }

    @Test
    void modelWeightsAreNotVectors() {
        Path model = TestData.shared().resolve("models/rudder-chat/base/model.safetensors");
        BadInputException e = assertThrows(BadInputException.class, () -> SteeringVectorFiles.read(model));
        assertTrue(e.getMessage().contains("only direction.N"), e.getMessage());
    }
}
