package dev.rudder.tokenizer;
