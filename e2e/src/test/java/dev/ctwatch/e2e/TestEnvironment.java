package dev.ctwatch.e2e;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Collection;

/** What deploy/test.sh provides the end-to-end tests: the broker, and PostgreSQL for a database per run. */
final class TestEnvironment {
    private static final String POSTGRES =
            System.getenv().getOrDefault("CTWATCH_TEST_PG", "jdbc:postgresql://127.0.0.1:5432/");

    private TestEnvironment() {}

    /** An environment variable deploy/test.sh sets; a clear message when the tests run without it. */
    static String required(String variable) {
        String value = System.getenv(variable);
        if (value == null || value.isBlank()) {
            throw new IllegalStateException(variable + " is not set: run the tests through deploy/test.sh, "
                    + "which starts Kafka and sets it");
        }
        return value;
    }

    static String dbUser() {
        return System.getenv().getOrDefault("QUARKUS_DATASOURCE_USERNAME", "ctwatch");
    }

    static String dbPassword() {
        return System.getenv().getOrDefault("QUARKUS_DATASOURCE_PASSWORD", "ctwatch");
    }

    /** Creates an empty database and returns its JDBC URL. */
    static String createDatabase(String name) throws SQLException {
        try (Connection c = DriverManager.getConnection(POSTGRES + "postgres", dbUser(), dbPassword())) {
            c.createStatement().execute("create database " + name);
        }
        return POSTGRES + name;
    }

    /** Drops databases {@link #createDatabase} made, by name or JDBC URL, sessions and all. */
    static void dropDatabases(Collection<String> namesOrUrls) throws SQLException {
        try (Connection c = DriverManager.getConnection(POSTGRES + "postgres", dbUser(), dbPassword())) {
            for (String db : namesOrUrls) {
                String name = db.startsWith(POSTGRES) ? db.substring(POSTGRES.length()) : db;
                c.createStatement().execute("drop database if exists " + name + " with (force)");
            }
        }
    }
}
