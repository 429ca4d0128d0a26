package dev.ctwatch.notifier.routing;

/** How urgent a notification is, lowest first; routes take a minimum. */
public enum Severity {
    INFO,
    LOW,
    MEDIUM,
    HIGH,
    CRITICAL
}
