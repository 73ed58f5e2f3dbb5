// ICU is on for Unicode normalisation only: numbers and dates stay culture-neutral whatever the machine's locale.
System.Globalization.CultureInfo.DefaultThreadCurrentCulture = System.Globalization.CultureInfo.InvariantCulture;
System.Globalization.CultureInfo.CurrentCulture = System.Globalization.CultureInfo.InvariantCulture;
// Spectre assumes 80 columns when output is not a terminal; tables written to files and CI logs need more room.
if (Console.IsOutputRedirected) Spectre.Console.AnsiConsole.Profile.Width = 160;
return Engine.Cli.SeaCli.Run(args);
