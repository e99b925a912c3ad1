// covenantc: the command-line shell over the Covenant libraries. All logic lives in the libraries;
// this program only parses the command line, calls them and prints what they return.
return Covenant.Cli.CovenantCli.Run(args, Console.Out, Console.Error);
