package dev.rudder.tokenizer.jinja;

import dev.rudder.tokenizer.jinja.Values.Fn;
import dev.rudder.tokenizer.jinja.Values.KwArgs;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static dev.rudder.tokenizer.jinja.Values.UNDEFINED;
import static dev.rudder.tokenizer.jinja.Values.jsString;

/** Python string methods on template strings ({@code s.strip()}, {@code s.split(',')}, ...), as the reference runtime has them. */
final class StringMethods {
    private StringMethods() {
    }

    private static String titleCase(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        boolean prevWord = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
            sb.append(word && !prevWord ? Character.toUpperCase(c) : c);
            prevWord = word;
        }
        return sb.toString();
    }

    /** The method {@code name} bound to {@code s} (or its value, for {@code length}); UNDEFINED when there is none. */
    static Object method(String s, String name, Budget budget) {
        return switch (name) {
            case "upper" -> (Fn) (a, e) -> s.toUpperCase(Locale.ROOT);
            case "lower" -> (Fn) (a, e) -> s.toLowerCase(Locale.ROOT);
            // The reference (@huggingface/jinja 0.5.11) ignores the chars argument: x.lstrip('\n') trims all
            // leading whitespace, not only newlines (Qwen3's template relies on this for assistant content).
            case "strip" -> (Fn) (a, e) -> Values.jsTrim(s, true, true);
            case "lstrip" -> (Fn) (a, e) -> Values.jsTrim(s, true, false);
            case "rstrip" -> (Fn) (a, e) -> Values.jsTrim(s, false, true);
            case "title" -> (Fn) (a, e) -> titleCase(s);
            case "capitalize" -> (Fn) (a, e) -> s.isEmpty() ? s : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1);
            case "length" -> (long) s.length();
            case "startswith", "endswith" -> (Fn) (a, e) -> {
                if (a.isEmpty()) {
                    throw new JinjaException(name + "() requires at least one argument");
                }
                Object p = a.get(0);
                boolean start = name.equals("startswith");
                if (p instanceof String ps) {
                    return start ? s.startsWith(ps) : s.endsWith(ps);
                }
                if (p instanceof List<?> l) {
                    for (Object x : l) {
                        if (!(x instanceof String xs)) {
                            throw new JinjaException(name + "() tuple elements must be strings");
                        }
                        if (start ? s.startsWith(xs) : s.endsWith(xs)) {
                            return true;
                        }
                    }
                    return false;
                }
                throw new JinjaException(name + "() argument must be a string or tuple of strings");
            };
            case "split" -> (Fn) (a, e) -> split(s, a, budget);
            case "replace" -> (Fn) (a, e) -> {
                if (a.size() < 2 || !(a.get(0) instanceof String o) || !(a.get(1) instanceof String nw)) {
                    throw new JinjaException("replace() requires two string arguments");
                }
                Object count = a.size() > 2 ? a.get(2) : null;
                if (count instanceof KwArgs kw) {
                    count = kw.get("count");
                }
                return replace(s, o, nw, count instanceof Long l ? l : -1, budget);
            };
            case "count" -> (Fn) (a, e) -> {
                String sub = a.isEmpty() ? "" : jsString(a.get(0));
                if (sub.isEmpty()) {
                    return (long) s.length() + 1;
                }
                long c = 0;
                for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + sub.length())) {
                    c++;
                }
                return c;
            };
            case "find" -> (Fn) (a, e) -> (long) s.indexOf(a.isEmpty() ? "" : jsString(a.get(0)));
            case "join" -> (Fn) (a, e) -> {
                if (a.isEmpty() || !(a.get(0) instanceof List<?> l)) {
                    throw new JinjaException("join() argument must be a list");
                }
                List<String> parts = new ArrayList<>();
                long length = 0;
                for (Object x : l) {
                    String part = jsString(x);
                    length += part.length() + s.length();
                    budget.checkString(length, "join");
                    parts.add(part);
                }
                return String.join(s, parts);
            };
            case "isdigit" -> (Fn) (a, e) -> !s.isEmpty() && s.chars().allMatch(Character::isDigit);
            case "isalpha" -> (Fn) (a, e) -> !s.isEmpty() && s.chars().allMatch(Character::isLetter);
            case "isspace" -> (Fn) (a, e) -> !s.isEmpty() && s.chars().allMatch(c -> Values.jsSpace((char) c));
            case "format" -> (Fn) (a, e) -> {
                StringBuilder sb = new StringBuilder();
                int k = 0;
                for (int i = 0; i < s.length(); i++) {
                    if (s.startsWith("{}", i) && k < a.size()) {
                        sb.append(jsString(a.get(k++)));
                        budget.checkString(sb.length(), "format");
                        i++;
                    } else {
                        sb.append(s.charAt(i));
                    }
                }
                return sb.toString();
            };
            default -> UNDEFINED;
        };
    }

    private static String replace(String s, String old, String nw, long count, Budget budget) {
        if (old.isEmpty()) {
            long inserts = count < 0 ? s.length() + 1L : Math.min(count, s.length() + 1L);
            budget.checkString(s.length() + inserts * nw.length(), "replace");
            return insertEverywhere(s, nw, count);
        }
        StringBuilder sb = new StringBuilder();
        int i = 0;
        long done = 0;
        while (count < 0 || done < count) {
            int j = s.indexOf(old, i);
            if (j < 0) {
                break;
            }
            sb.append(s, i, j).append(nw);
            budget.checkString(sb.length(), "replace");
            i = j + old.length();
            done++;
        }
        return sb.append(s.substring(i)).toString();
    }

    private static String insertEverywhere(String s, String nw, long count) {
        StringBuilder sb = new StringBuilder();
        long done = 0;
        for (int i = 0; i <= s.length(); i++) {
            if (count < 0 || done < count) {
                sb.append(nw);
                done++;
            }
            if (i < s.length()) {
                sb.append(s.charAt(i));
            }
        }
        return sb.toString();
    }

    /** Python {@code str.split(sep, maxsplit)}. */
    static List<Object> split(String s, List<Object> a, Budget budget) {
        Object sep = a.isEmpty() ? null : a.get(0);
        if (sep == UNDEFINED) {
            sep = null;
        }
        long maxsplit = a.size() > 1 && a.get(1) instanceof Long l ? l : -1;
        List<Object> result = new ArrayList<>();
        if (sep == null) {
            String text = Values.jsTrim(s, true, false);
            int i = 0;
            int n = text.length();
            while (i < n) {
                int st = i;
                while (i < n && !Values.jsSpace(text.charAt(i))) {
                    i++;
                }
                if (maxsplit != -1 && result.size() >= maxsplit) {
                    result.add(text.substring(st));
                    break;
                }
                result.add(text.substring(st, i));
                budget.checkItems(result.size(), "split");
                while (i < n && Values.jsSpace(text.charAt(i))) {
                    i++;
                }
            }
            return result;
        }
        if (!(sep instanceof String ss)) {
            throw new JinjaException("sep argument must be a string or null");
        }
        if (ss.isEmpty()) {
            throw new JinjaException("empty separator");
        }
        int i = 0;
        while (true) {
            if (maxsplit != -1 && result.size() >= maxsplit) {
                result.add(s.substring(i));
                break;
            }
            int j = s.indexOf(ss, i);
            if (j < 0) {
                result.add(s.substring(i));
                break;
            }
            result.add(s.substring(i, j));
            budget.checkItems(result.size(), "split");
            i = j + ss.length();
        }
        return result;
    }
}
