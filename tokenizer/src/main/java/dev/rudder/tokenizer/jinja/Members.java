package dev.rudder.tokenizer.jinja;

import dev.rudder.tokenizer.jinja.Values.Fn;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.rudder.tokenizer.jinja.Values.UNDEFINED;
import static dev.rudder.tokenizer.jinja.Values.typeName;

/** Member access on evaluated values: {@code obj.name}, {@code obj[i]}, slices, and the methods of maps. */
final class Members {
    private Members() {
    }

    /** {@code obj.prop} / {@code obj[prop]}: map entries and methods, list and string indexing, string methods. */
    static Object get(Object obj, Object prop, Budget budget) {
        Object value;
        if (obj instanceof Map<?, ?> map) {
            if (!(prop instanceof String ps)) {
                throw new JinjaException("Cannot access property with non-string: got " + typeName(prop));
            }
            value = map.containsKey(ps) ? map.get(ps) : objectBuiltin(map, ps);
            if (value == null && map.containsKey(ps)) {
                return null;
            }
        } else if (obj instanceof List<?> list) {
            if (prop instanceof Long idx) {
                long i = idx < 0 ? list.size() + idx : idx;
                value = i >= 0 && i < list.size() ? list.get((int) i) : UNDEFINED;
                if (value == null && i >= 0 && i < list.size()) {
                    return null;
                }
            } else if (prop instanceof String ps) {
                value = ps.equals("length") ? (Object) (long) list.size() : UNDEFINED;
            } else {
                throw new JinjaException("Cannot access property with non-string/non-number: got " + typeName(prop));
            }
        } else if (obj instanceof String str) {
            if (prop instanceof Long idx) {
                long i = idx < 0 ? str.length() + idx : idx;
                value = i >= 0 && i < str.length() ? String.valueOf(str.charAt((int) i)) : UNDEFINED;
            } else if (prop instanceof String ps) {
                value = StringMethods.method(str, ps, budget);
            } else {
                throw new JinjaException("Cannot access property with non-string/non-number: got " + typeName(prop));
            }
        } else {
            if (!(prop instanceof String)) {
                throw new JinjaException("Cannot access property with non-string: got " + typeName(prop));
            }
            value = UNDEFINED;
        }
        return value == null ? UNDEFINED : value;
    }

    /** {@code obj[start:stop:step]} on a list or a string (Python semantics, negative indices included). */
    static Object slice(Object obj, Object start, Object stop, Object step) {
        for (Object x : new Object[]{start, stop, step}) {
            if (!(x instanceof Long || x == UNDEFINED || x == null)) {
                throw new JinjaException("Slice indices must be integers or undefined");
            }
        }
        Long st = start instanceof Long l ? l : null;
        Long sp = stop instanceof Long l ? l : null;
        long stepV = step instanceof Long l ? l : 1;
        if (stepV == 0) {
            throw new JinjaException("slice step cannot be zero");
        }
        if (obj instanceof List<?> list) {
            List<Object> r = new ArrayList<>();
            for (int i : sliceIndices(list.size(), st, sp, stepV)) {
                r.add(list.get(i));
            }
            return r;
        }
        if (obj instanceof String str) {
            int[] cps = str.codePoints().toArray();
            StringBuilder sb = new StringBuilder();
            for (int i : sliceIndices(cps.length, st, sp, stepV)) {
                sb.appendCodePoint(cps[i]);
            }
            return sb.toString();
        }
        throw new JinjaException("Slice object must be an array or string");
    }

    private static List<Integer> sliceIndices(int len, Long start, Long stop, long step) {
        long s;
        long e;
        if (step > 0) {
            s = start == null ? 0 : start < 0 ? Math.max(len + start, 0) : Math.min(start, len);
            e = stop == null ? len : stop < 0 ? Math.max(len + stop, 0) : Math.min(stop, len);
        } else {
            s = start == null ? len - 1 : start < 0 ? Math.max(len + start, -1) : Math.min(start, len - 1);
            e = stop == null ? -1 : stop < -1 ? Math.max(len + stop, -1) : Math.min(stop, len - 1);
        }
        List<Integer> r = new ArrayList<>();
        long dir = step > 0 ? 1 : -1;
        for (long i = s; dir * i < dir * e; i += step) {
            r.add((int) i);
        }
        return r;
    }

    private static Object objectBuiltin(Map<?, ?> map, String name) {
        @SuppressWarnings("unchecked") Map<String, Object> m = (Map<String, Object>) map;
        return switch (name) {
            case "get" -> (Fn) (args, e) -> {
                if (args.isEmpty() || !(args.get(0) instanceof String k)) {
                    throw new JinjaException("Object key must be a string");
                }
                if (m.containsKey(k)) {
                    return m.get(k);
                }
                return args.size() > 1 ? args.get(1) : null;
            };
            case "items" -> (Fn) (args, e) -> Filters.items(m);
            case "keys" -> (Fn) (args, e) -> new ArrayList<Object>(m.keySet());
            case "values" -> (Fn) (args, e) -> new ArrayList<Object>(m.values());
            case "update" -> (Fn) (args, e) -> {
                for (Object a : args) {
                    if (a instanceof Map<?, ?> o) {
                        for (Map.Entry<?, ?> en : o.entrySet()) {
                            m.put(String.valueOf(en.getKey()), en.getValue());
                        }
                    }
                }
                return null;
            };
            default -> UNDEFINED;
        };
    }

}
