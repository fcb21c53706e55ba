/**
 * The time zone a phone number tells: the North American area code (NANP, +1) or the country
 * calling code. A country spanning several zones gets its most populous one; an area code split
 * between zones gets the zone most of its numbers are in. Unknown → undefined (use the default).
 */

const NANP: Record<string, string> = {};
function zone(tz: string, codes: string): void {
  for (const code of codes.trim().split(/\s+/)) NANP[code] = tz;
}

zone(
  "America/New_York",
  `203 475 860 959 302 202 771 239 305 321 324 352 386 407 448 561 645 656 689 727 728 754 772 786 813 850 863 904
   941 954 229 404 470 478 678 706 762 770 912 943 207 227 240 301 410 443 667 339 351 413 508 617 774 781 857 978
   603 201 551 609 640 732 848 856 862 908 973 212 315 329 332 347 363 516 518 585 607 624 631 646 680 716 718 838
   845 914 917 929 934 252 336 472 704 743 828 910 919 980 984 216 220 234 283 326 330 380 419 436 440 513 567 614
   740 937 215 223 267 272 412 445 484 570 582 610 717 724 814 835 878 401 803 821 839 843 854 864 423 865 802 276
   434 540 571 686 703 757 804 826 948 304 681 502 606 859`,
);
zone("America/Detroit", "231 248 269 313 517 586 616 679 734 810 906 947 989");
zone("America/Indiana/Indianapolis", "219 260 317 463 574 765 812 930");
zone(
  "America/Chicago",
  `205 251 256 334 659 938 479 501 870 327 217 224 309 312 331 447 464 618 630 708 730 773 779 815 847 861 872 319
   515 563 641 712 316 620 785 913 270 364 225 318 337 504 985 218 320 507 612 651 763 924 952 228 601 662 769 314
   417 557 573 636 660 816 975 308 402 531 701 405 539 572 580 918 605 615 629 731 901 931 210 214 254 281 325 346
   361 409 430 432 469 512 682 713 726 737 806 817 830 832 903 936 940 945 956 972 979 262 274 353 414 534 608 715
   920`,
);
zone("America/Denver", "303 719 720 970 983 406 505 575 385 435 801 307 915");
zone("America/Boise", "208 986");
zone("America/Phoenix", "480 520 602 623 928");
zone(
  "America/Los_Angeles",
  `209 213 279 310 323 341 350 408 415 424 442 510 530 559 562 619 626 628 650 657 661 669 707 714 747 760 805 818
   820 831 840 858 909 916 925 949 951 702 725 775 458 503 541 971 206 253 360 425 509 564`,
);
zone("America/Anchorage", "907");
zone("Pacific/Honolulu", "808");
zone("America/Puerto_Rico", "787 939");
zone("America/Toronto", "416 647 437 905 289 365 613 343 705 249 519 226 548 807 683 742 753");
zone("America/Montreal", "514 438 450 579 418 581 819 873 367 354 468");
zone("America/Vancouver", "604 778 236 250 672");
zone("America/Edmonton", "403 587 780 825 368");
zone("America/Regina", "306 639 474");
zone("America/Winnipeg", "204 431");
zone("America/Halifax", "902 782");
zone("America/Moncton", "506");
zone("America/St_Johns", "709");

const COUNTRIES: [string, string][] = (
  [
    ["44", "Europe/London"], ["353", "Europe/Dublin"], ["33", "Europe/Paris"], ["49", "Europe/Berlin"], ["34", "Europe/Madrid"],
    ["39", "Europe/Rome"], ["31", "Europe/Amsterdam"], ["32", "Europe/Brussels"], ["41", "Europe/Zurich"], ["43", "Europe/Vienna"],
    ["45", "Europe/Copenhagen"], ["46", "Europe/Stockholm"], ["47", "Europe/Oslo"], ["358", "Europe/Helsinki"], ["48", "Europe/Warsaw"],
    ["351", "Europe/Lisbon"], ["30", "Europe/Athens"], ["90", "Europe/Istanbul"], ["7", "Europe/Moscow"], ["380", "Europe/Kyiv"],
    ["420", "Europe/Prague"], ["36", "Europe/Budapest"], ["40", "Europe/Bucharest"], ["972", "Asia/Jerusalem"], ["971", "Asia/Dubai"],
    ["966", "Asia/Riyadh"], ["20", "Africa/Cairo"], ["27", "Africa/Johannesburg"], ["234", "Africa/Lagos"], ["254", "Africa/Nairobi"],
    ["91", "Asia/Kolkata"], ["92", "Asia/Karachi"], ["880", "Asia/Dhaka"], ["86", "Asia/Shanghai"], ["852", "Asia/Hong_Kong"],
    ["886", "Asia/Taipei"], ["81", "Asia/Tokyo"], ["82", "Asia/Seoul"], ["65", "Asia/Singapore"], ["60", "Asia/Kuala_Lumpur"],
    ["66", "Asia/Bangkok"], ["84", "Asia/Ho_Chi_Minh"], ["62", "Asia/Jakarta"], ["63", "Asia/Manila"], ["61", "Australia/Sydney"],
    ["64", "Pacific/Auckland"], ["52", "America/Mexico_City"], ["55", "America/Sao_Paulo"], ["54", "America/Argentina/Buenos_Aires"],
    ["56", "America/Santiago"], ["57", "America/Bogota"], ["51", "America/Lima"], ["58", "America/Caracas"],
  ] as [string, string][]
).sort((a, b) => b[0].length - a[0].length);

/** The number's time zone as far as it tells, else undefined. */
export function timeZoneOf(e164: string): string | undefined {
  const digits = e164.slice(1);
  if (digits.startsWith("1")) return NANP[digits.slice(1, 4)];
  return COUNTRIES.find(([prefix]) => digits.startsWith(prefix))?.[1];
}
