package dev.rudder.tokenizer.jinja;

import dev.rudder.tokenizer.jinja.Interpreter.Env;
import dev.rudder.tokenizer.jinja.Values.Fn;
import dev.rudder.tokenizer.jinja.Values.KwArgs;

import java.time.LocalDateTime;
import java.time.format.TextStyle;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static dev.rudder.tokenizer.jinja.Values.jsString;

/** The names every template sees: constants, {@code namespace}, {@code raise_exception}, {@code range}, {@code strftime_now}. */
final class Globals {
    private Globals() {
    }

    /** A fresh global scope for one render; {@code range} answers to its {@code budget}. */
    static Env env(Budget budget) {
        Env env = new Env(null);
        env.set("true", true);
        env.set("false", false);
        env.set("none", null);
        env.set("True", true);
        env.set("False", false);
        env.set("None", null);
        env.set("namespace", (Fn) (args, e) -> {
            if (args.isEmpty()) {
                return new LinkedHashMap<String, Object>();
            }
            if (args.size() != 1 || !(args.get(0) instanceof Map)) {
                throw new JinjaException("`namespace` expects either zero arguments or a single object argument");
            }
            LinkedHashMap<String, Object> ns = new LinkedHashMap<>();
            @SuppressWarnings("unchecked") Map<String, Object> m = (Map<String, Object>) args.get(0);
            ns.putAll(m);
            return ns;
        });
        env.set("raise_exception", (Fn) (args, e) -> {
            throw new JinjaException(args.isEmpty() ? "undefined" : jsString(args.get(0)), true);
        });
        env.set("range", (Fn) (args, e) -> range(args, budget));
        env.set("strftime_now", (Fn) (args, e) -> strftime(LocalDateTime.now(), args.isEmpty() ? "" : jsString(args.get(0))));
        return env;
    }

    private static Object range(List<Object> args, Budget budget) {
        List<Object> a = new ArrayList<>(args);
        if (!a.isEmpty() && a.get(a.size() - 1) instanceof KwArgs) {
            a.remove(a.size() - 1);
        }
        long start = 0;
        long stop;
        long step = 1;
        if (a.size() == 1) {
            stop = num(a.get(0));
        } else if (a.size() >= 2) {
            start = num(a.get(0));
            stop = num(a.get(1));
            if (a.size() > 2) {
                step = num(a.get(2));
            }
        } else {
            throw new JinjaException("range expected at least 1 argument");
        }
        if (step == 0) {
            throw new JinjaException("range() arg 3 must not be zero");
        }
        // count first, in exact arithmetic: a huge range is refused before anything is allocated
        java.math.BigInteger span = java.math.BigInteger.valueOf(stop).subtract(java.math.BigInteger.valueOf(start));
        java.math.BigInteger st = java.math.BigInteger.valueOf(step);
        long count = span.signum() != st.signum() ? 0
                : span.add(st).subtract(java.math.BigInteger.valueOf(Long.signum(step))).divide(st)
                .min(java.math.BigInteger.valueOf(Long.MAX_VALUE)).longValue();
        budget.checkRange(count);
        List<Object> r = new ArrayList<>((int) count);
        for (long k = 0; k < count; k++) {
            r.add(start + k * step);
        }
        return r;
    }

    private static long num(Object o) {
        if (o instanceof Long l) {
            return l;
        }
        throw new JinjaException("range() arguments must be integers");
    }

    /** Python {@code strftime} for the directives chat templates use. */
    static String strftime(LocalDateTime t, String fmt) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < fmt.length(); i++) {
            char c = fmt.charAt(i);
            if (c != '%' || i + 1 >= fmt.length()) {
                sb.append(c);
                continue;
            }
            char d = fmt.charAt(++i);
            boolean noPad = false;
            if (d == '-' && i + 1 < fmt.length()) {
                noPad = true;
                d = fmt.charAt(++i);
            }
            String v = switch (d) {
                case 'd' -> pad(t.getDayOfMonth(), noPad);
                case 'e' -> String.format("%2d", t.getDayOfMonth());
                case 'm' -> pad(t.getMonthValue(), noPad);
                case 'Y' -> Integer.toString(t.getYear());
                case 'y' -> pad(t.getYear() % 100, noPad);
                case 'H' -> pad(t.getHour(), noPad);
                case 'I' -> pad(t.getHour() % 12 == 0 ? 12 : t.getHour() % 12, noPad);
                case 'M' -> pad(t.getMinute(), noPad);
                case 'S' -> pad(t.getSecond(), noPad);
                case 'p' -> t.getHour() < 12 ? "AM" : "PM";
                case 'b', 'h' -> t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH);
                case 'B' -> t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH);
                case 'a' -> t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH);
                case 'A' -> t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH);
                case 'j' -> noPad ? Integer.toString(t.getDayOfYear()) : String.format("%03d", t.getDayOfYear());
                case '%' -> "%";
                default -> "%" + (noPad ? "-" : "") + d;
            };
            sb.append(v);
        }
        return sb.toString();
    }

    private static String pad(int v, boolean noPad) {
        return noPad ? Integer.toString(v) : String.format("%02d", v);
    }
}
