/** JMH benchmarks of the plain-Java API; {@code benchmarks/run} runs them with the C baseline in one run. */
package org.dmabuf.benchmarks;
