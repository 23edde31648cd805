package dev.rudder.tokenizer;

import java.util.List;

/** tokenizer.json {@code post_processor} for single sequences: the ids to put before and after the text. */
record PostProcessor(int[] before, int[] after) {
    static final PostProcessor NONE = new PostProcessor(new int[0], new int[0]);

    static PostProcessor concat(List<PostProcessor> list) {
        IntList b = new IntList();
        IntList a = new IntList();
        for (PostProcessor p : list) {
            // a sequence applies processors one after another: each wraps the previous result
            IntList nb = new IntList();
            nb.addAll(p.before);
            nb.addAll(b.toArray());
            b = nb;
            a.addAll(p.after);
        }
        return new PostProcessor(b.toArray(), a.toArray());
    }
}
