<?php
// The lesson's connection page, written again for the benchmark: open a PDO connection to
// the DB container by its network name, say whether that worked, close it, say so. It runs
// no query and always answers 200, as the original does; only the text tells the outcome.
$user = getenv('MYSQL_USER');
$password = getenv('MYSQL_PASSWORD');
?>
<!DOCTYPE html>
<html lang="ja">
<head>
<meta charset="utf-8">
<title>PHP CONNECTION TEST</title>
</head>
<body>
<h1>PHP CONNECTION TEST</h1>
<?php
try {
    $pdo = new PDO('mysql:host=mysql;dbname=mysql', $user, $password);
    echo "<p>接続に成功しました。</p>\n";
} catch (PDOException $e) {
    echo '<p>接続に失敗しました。', htmlspecialchars($e->getMessage()), "</p>\n";
}
$pdo = null;
echo "<p>クローズしました。</p>\n";
?>
</body>
</html>
