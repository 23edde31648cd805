package dev.rudder.runtime;
import org.junit.jupiter.api.Test;
import static org.junit.jupiter.api.Assertions.*;
class SmokeTest { @Test void vectorModuleIsReadable() { assertTrue(jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length() > 0); assertEquals(25, Runtime.version().feature()); } }
