-- The message board's table. The DB image runs this file from /docker-entrypoint-initdb.d
-- on its first start, inside MYSQL_DATABASE (so no USE statement); the app runs it too when
-- it finds the table missing, so it must stay idempotent.
--
-- utf8mb4 is spelled out because mysql:5.7 defaults to latin1, which cannot hold Korean
-- or emoji. VARCHAR(280) counts characters (code points), as the app's limit does.
-- created_at is UTC: the app sets its session time zone to +00:00.
CREATE TABLE IF NOT EXISTS messages (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    text VARCHAR(280) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL,
    font VARCHAR(32) CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL DEFAULT 'standard',
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
