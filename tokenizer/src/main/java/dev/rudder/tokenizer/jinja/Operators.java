package dev.rudder.tokenizer.jinja;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.rudder.tokenizer.jinja.Values.UNDEFINED;
import static dev.rudder.tokenizer.jinja.Values.jsString;
import static dev.rudder.tokenizer.jinja.Values.typeName;

/**
 * Unary and binary operators with the reference runtime's semantics (JavaScript-flavoured
 * arithmetic and comparisons, Python-like {@code in}, string repetition and concatenation), with
 * the sizes of the strings and lists they build checked against the render's {@link Budget}.
 */
final class Operators {
    private Operators() {
    }

    /** {@code not x}, {@code -x}, {@code +x}. */
    static Object unary(String op, Object a) {
        switch (op) {
            case "not":
                // the reference negates the JavaScript truthiness of the raw value: lists and objects are
                // always truthy there (so `not []` is false), unlike the Python-like `if`
                return !Values.jsTruthy(a);
            case "-":
                if (a instanceof Long l) {
                    return -l;
                }
                if (a instanceof Double d) {
                    return -d;
                }
                throw new JinjaException("Unknown operator: - on " + typeName(a));
            case "+":
                if (Values.isNumber(a)) {
                    return a;
                }
                throw new JinjaException("Unknown operator: + on " + typeName(a));
            default:
                throw new JinjaException("Unknown operator: " + op);
        }
    }

    /** A binary operator on evaluated operands ({@code and}/{@code or} short-circuit in the interpreter). */
    static Object binary(String op, Object left, Object right, Budget budget) {
        if (op.equals("==")) {
            return Values.looseEquals(left, right);
        }
        if (op.equals("!=")) {
            return !Values.looseEquals(left, right);
        }
        if (left == UNDEFINED || right == UNDEFINED) {
            if (right == UNDEFINED && (op.equals("in") || op.equals("not in"))) {
                return op.equals("not in");
            }
            throw new JinjaException("Cannot perform operation " + op + " on undefined values");
        }
        if (left == null || right == null) {
            throw new JinjaException("Cannot perform operation on null values");
        }
        if (op.equals("~")) {
            return concat(jsString(left), jsString(right), budget);
        }
        if (Values.isNumber(left) && Values.isNumber(right)) {
            boolean isFloat = left instanceof Double || right instanceof Double;
            double a = ((Number) left).doubleValue();
            double c = ((Number) right).doubleValue();
            switch (op) {
                case "+", "-", "*": {
                    if (!isFloat) {
                        long x = (Long) left;
                        long y = (Long) right;
                        return op.equals("+") ? x + y : op.equals("-") ? x - y : x * y;
                    }
                    return op.equals("+") ? a + c : op.equals("-") ? a - c : a * c;
                }
                case "/":
                    return a / c;
                case "//": {
                    if (!isFloat) {
                        long y = (Long) right;
                        if (y == 0) {
                            throw new JinjaException("integer division or modulo by zero");
                        }
                        return Math.floorDiv((Long) left, y);
                    }
                    return Math.floor(a / c);
                }
                case "%": {
                    if (!isFloat) {
                        long y = (Long) right;
                        if (y == 0) {
                            return Double.NaN;
                        }
                        return (Long) left % y;
                    }
                    return a % c;
                }
                case "<":
                    return a < c;
                case ">":
                    return a > c;
                case ">=":
                    return a >= c;
                case "<=":
                    return a <= c;
                default:
                    break;
            }
        } else if (left instanceof List<?> l && right instanceof List<?> r) {
            if (op.equals("+")) {
                budget.checkItems((long) l.size() + r.size(), "list concatenation");
                List<Object> res = new ArrayList<>(l);
                res.addAll(r);
                return res;
            }
        } else if (right instanceof List<?> r) {
            boolean member = false;
            for (Object x : r) {
                if (Values.strictEquals(x, left)) {
                    member = true;
                    break;
                }
            }
            if (op.equals("in")) {
                return member;
            }
            if (op.equals("not in")) {
                return !member;
            }
        }
        if (left instanceof String || right instanceof String) {
            if (op.equals("+")) {
                return concat(jsString(left), jsString(right), budget);
            }
        }
        if (left instanceof String ls && right instanceof String rs) {
            switch (op) {
                case "in":
                    return rs.contains(ls);
                case "not in":
                    return !rs.contains(ls);
                case "<":
                    return ls.compareTo(rs) < 0;
                case ">":
                    return ls.compareTo(rs) > 0;
                case "<=":
                    return ls.compareTo(rs) <= 0;
                case ">=":
                    return ls.compareTo(rs) >= 0;
                default:
                    break;
            }
        }
        if (left instanceof String ls && right instanceof Map<?, ?> rm) {
            if (op.equals("in")) {
                return rm.containsKey(ls);
            }
            if (op.equals("not in")) {
                return !rm.containsKey(ls);
            }
        }
        if (op.equals("*") && left instanceof String s && right instanceof Long k) {
            long times = Math.max(0, k);
            budget.checkString(times > Integer.MAX_VALUE ? Long.MAX_VALUE : s.length() * times,
                    "string repetition ('" + abbreviate(s) + "' * " + k + ")");
            return s.repeat((int) times);
        }
        throw new JinjaException("Unknown operator \"" + op + "\" between " + typeName(left) + " and " + typeName(right));
    }

    private static String concat(String a, String b, Budget budget) {
        budget.checkString((long) a.length() + b.length(), "string concatenation");
        return a + b;
    }

    private static String abbreviate(String s) {
        return s.length() <= 20 ? s : s.substring(0, 20) + "...";
    }
}
