/** The exception base shared by every module; see {@link dev.rudder.errors.RudderException}. */
package dev.rudder.errors;
