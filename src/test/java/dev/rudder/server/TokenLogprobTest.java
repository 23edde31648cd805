package dev.rudder.server;

import dev.rudder.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class TokenLogprobTest {
    private static final TokenLogprob.Texts NO_TEXT = new TokenLogprob.Texts(null);

    @Test
    void logprobsAreTheLogSoftmaxOfTheRawLogits() {
        Random r = new Random(7);
        float[] logits = new float[5000];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) (r.nextGaussian() * 4 + 30);   // large offsets: a naive exp would overflow a float
        }
        // reference: probabilities in BigDecimal-free double, shifted by a different constant than the code's max
        double shift = 25;
        double z = 0;
        for (float l : logits) {
            z += Math.exp(l - shift);
        }
        TokenLogprob e = TokenLogprob.of(logits, 123, 5, NO_TEXT);
        assertEquals(logits[123] - shift - Math.log(z), e.logprob(), 1e-9);
        double total = 0;
        for (int i = 0; i < logits.length; i++) {
            total += Math.exp(TokenLogprob.of(logits, i, 0, NO_TEXT).logprob());
        }
        assertEquals(1.0, total, 1e-9);
    }

    @Test
    void alternativesAreTheLikeliestInOrderWithTiesByLowerId() {
        float[] logits = {1f, 5f, 3f, 5f, -2f, 4f, 3f};
        assertArrayEquals(new int[] {1, 3, 5, 2, 6}, TokenLogprob.topIds(logits, 5));
        assertArrayEquals(new int[] {1, 3, 5, 2, 6, 0, 4}, TokenLogprob.topIds(logits, 7));
        assertArrayEquals(new int[] {1}, TokenLogprob.topIds(logits, 1));
        assertArrayEquals(new int[0], TokenLogprob.topIds(logits, 0));
        TokenLogprob e = TokenLogprob.of(logits, 0, 3, NO_TEXT);
        assertEquals(3, e.top().length);
        assertEquals(e.top()[0].logprob(), e.top()[1].logprob());   // the tie at 5
        assertEquals(e.top()[0].logprob() - 1, e.top()[2].logprob(), 1e-12);
        assertEquals(e.top()[0].logprob() - 4, e.logprob(), 1e-12);
    }

    @Test
    void aTokenReadsAsItDoesInsideATextWithItsLeadingSpace() {
        // SentencePiece (Mistral): "▁Hello" decodes alone to "Hello" (the decoder strips the first space)
        Tokenizer sp = Tokenizer.fromModelDir(ServerFixture.SHARED.resolve("models/tokenizers/mistral"));
        int hello = sp.tokenId("▁Hello").orElseThrow();
        assertEquals("Hello", sp.decode(new int[] {hello}, false));
        assertEquals(" Hello", new TokenLogprob.Texts(sp).of(hello));
        // byte-level BPE (Llama 3): "ĠHello" is " Hello" alone too
        Tokenizer bl = Tokenizer.fromModelDir(ServerFixture.SHARED.resolve("models/tokenizers/llama3"));
        assertEquals(" Hello", new TokenLogprob.Texts(bl).of(bl.tokenId("ĠHello").orElseThrow()));
        assertEquals("", NO_TEXT.of(5));
    }
}
