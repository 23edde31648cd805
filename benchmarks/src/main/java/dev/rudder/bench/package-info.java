package dev.rudder.bench;
