package dev.rudder.steering;
