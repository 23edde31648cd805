package dev.rudder.tokenizer.jinja;

import java.util.List;

/** Syntax tree of a template. */
sealed interface Node {
    record Text(String value) implements Node {}
    record Comment() implements Node {}
    record Str(String value) implements Node {}
    record IntLit(long value) implements Node {}
    record FloatLit(double value) implements Node {}
    record Ident(String name) implements Node {}
    record ArrayLit(List<Node> items) implements Node {}
    record TupleLit(List<Node> items) implements Node {}
    record ObjectLit(List<Node> keys, List<Node> values) implements Node {}
    record Member(Node object, Node property, boolean computed) implements Node {}
    record Slice(Node start, Node stop, Node step) implements Node {}
    record Call(Node callee, List<Node> args) implements Node {}
    record KwArg(String key, Node value) implements Node {}
    record Unary(String op, Node arg) implements Node {}
    record Binary(String op, Node left, Node right) implements Node {}
    record Filter(Node operand, String name, List<Node> args, boolean call) implements Node {}
    record Test(Node operand, boolean negate, String name, List<Node> args) implements Node {}
    record Select(Node lhs, Node test) implements Node {}
    record Ternary(Node cond, Node whenTrue, Node whenFalse) implements Node {}
    record If(Node test, List<Node> body, List<Node> alternate) implements Node {}
    record For(Node loopVar, Node iterable, List<Node> body, List<Node> elseBody) implements Node {}
    record Set(Node target, Node value, List<Node> body) implements Node {}
    record Macro(String name, List<Node> args, List<Node> body) implements Node {}
    record CallBlock(Call call, List<Node> callerArgs, List<Node> body) implements Node {}
    record FilterBlock(String name, List<Node> args, boolean call, List<Node> body) implements Node {}
    record Break() implements Node {}
    record Continue() implements Node {}
}
