<?xml version="1.0" encoding="UTF-8"?>
<!--
  Turns an RSS 2.0 channel or an Atom 1.0 feed into a readable HTML page, for people who open a
  feed URL in a browser. Feed readers ignore it. XSLT 1.0 only (what browsers implement).

  Documents reference it with <?xml-stylesheet type="text/xsl" href="/static/feed.xsl"?>.
  Only plain-text fields are shown (title, summary, caption, credit): escaped HTML content is
  never written unescaped, and only http(s) URLs become links or images.
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:media="http://search.yahoo.com/mrss/"
    xmlns:content="http://purl.org/rss/1.0/modules/content/"
    exclude-result-prefixes="atom dc media content">

  <xsl:output method="html" encoding="UTF-8" indent="no" doctype-system="about:legacy-compat"/>
  <xsl:strip-space elements="*"/>

  <!-- ================================================================ the page -->

  <xsl:template match="/">
    <xsl:variable name="rss" select="/rss/channel"/>
    <xsl:variable name="atom" select="/atom:feed"/>
    <xsl:variable name="title" select="normalize-space($rss/title | $atom/atom:title)"/>
    <xsl:variable name="self"
        select="($rss/atom:link[@rel='self']/@href | $atom/atom:link[@rel='self']/@href)[1]"/>
    <xsl:variable name="lang"
        select="($rss/language | $atom/@xml:lang)[1]"/>
    <html dir="auto">
      <xsl:if test="$lang">
        <xsl:attribute name="lang"><xsl:value-of select="$lang"/></xsl:attribute>
      </xsl:if>
      <head>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <meta name="robots" content="noindex"/>
        <title><xsl:value-of select="$title"/> (web feed)</title>
        <style>
          body { font: 16px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 0 auto;
                 padding: 0 1rem 3rem; color: #1d1d1f; background: #fff; }
          .about { background: #fff8e1; border: 1px solid #f0d68a; border-radius: 6px;
                   padding: .8rem 1rem; margin: 1.2rem 0; }
          .about p { margin: .2rem 0; }
          .about code { display: block; overflow-wrap: anywhere; background: #fff;
                        border: 1px solid #eadca8; padding: .3rem .5rem; margin: .4rem 0;
                        user-select: all; }
          header h1 { font-size: 1.7rem; margin: 1.5rem 0 .2rem; }
          header p { color: #555; margin-top: 0; }
          nav.pages a { margin-inline-end: 1rem; }
          article { border-top: 1px solid #ddd; padding: 1.2rem 0; }
          article h2 { font-size: 1.25rem; margin: 0 0 .2rem; }
          article h2 a { color: inherit; }
          .meta { color: #666; font-size: .9rem; margin: 0 0 .6rem; }
          figure { margin: .6rem 0; }
          figure img { max-width: 100%; height: auto; display: block; background: #eee; }
          figcaption { font-size: .9rem; color: #444; margin-top: .3rem; }
          .credit { color: #777; font-size: .85em; }
          .summary { margin: .4rem 0 0; }
        </style>
      </head>
      <body>
        <section class="about" dir="ltr" lang="en">
          <p><strong>This is a web feed.</strong> Copy its URL into your feed reader to
            subscribe and get new items as they are published.</p>
          <xsl:if test="$self">
            <code class="feed-url"><xsl:value-of select="$self"/></code>
          </xsl:if>
          <p><a href="/">All our feeds</a></p>
        </section>
        <xsl:apply-templates select="$rss | $atom"/>
      </body>
    </html>
  </xsl:template>

  <!-- ================================================================ RSS 2.0 -->

  <xsl:template match="channel">
    <header dir="auto">
      <h1>
        <xsl:call-template name="link">
          <xsl:with-param name="href" select="link"/>
          <xsl:with-param name="text" select="title"/>
        </xsl:call-template>
      </h1>
      <xsl:if test="normalize-space(description)">
        <p class="description"><xsl:value-of select="description"/></p>
      </xsl:if>
    </header>
    <xsl:call-template name="pages"/>
    <main>
      <xsl:apply-templates select="item"/>
    </main>
    <xsl:call-template name="pages"/>
  </xsl:template>

  <xsl:template match="item">
    <xsl:variable name="image"
        select="(media:content[@medium='image' or starts-with(@type, 'image/')]
                 | media:group/media:content[@medium='image' or starts-with(@type, 'image/')]
                 | media:thumbnail
                 | enclosure[starts-with(@type, 'image/')])[1]"/>
    <article dir="auto">
      <h2 class="title">
        <xsl:call-template name="link">
          <xsl:with-param name="href" select="link"/>
          <xsl:with-param name="text" select="title"/>
        </xsl:call-template>
      </h2>
      <p class="meta">
        <xsl:if test="pubDate">
          <time class="date"><xsl:value-of select="pubDate"/></time>
        </xsl:if>
        <xsl:for-each select="dc:creator | author">
          <xsl:text> · </xsl:text>
          <span class="author"><xsl:value-of select="."/></span>
        </xsl:for-each>
        <xsl:if test="normalize-space(source)">
          <xsl:text> · via </xsl:text>
          <span class="source"><xsl:value-of select="source"/></span>
        </xsl:if>
      </p>
      <xsl:call-template name="figure">
        <xsl:with-param name="image" select="$image"/>
        <xsl:with-param name="src" select="$image/@url"/>
        <xsl:with-param name="caption"
            select="($image/media:description | $image/../media:description)[1]
                    | $image/media:title[not(../media:description or ../../media:description)]"/>
        <xsl:with-param name="credit" select="($image/media:credit | $image/../media:credit)[1]"/>
      </xsl:call-template>
      <xsl:if test="normalize-space(description)">
        <p class="summary"><xsl:value-of select="description"/></p>
      </xsl:if>
    </article>
  </xsl:template>

  <!-- ================================================================ Atom 1.0 -->

  <xsl:template match="atom:feed">
    <header dir="auto">
      <h1>
        <xsl:call-template name="link">
          <xsl:with-param name="href"
              select="(atom:link[@rel='alternate'] | atom:link[not(@rel)])[1]/@href"/>
          <xsl:with-param name="text" select="atom:title"/>
        </xsl:call-template>
      </h1>
      <xsl:if test="normalize-space(atom:subtitle)">
        <p class="description"><xsl:value-of select="atom:subtitle"/></p>
      </xsl:if>
    </header>
    <xsl:call-template name="pages"/>
    <main>
      <xsl:apply-templates select="atom:entry"/>
    </main>
    <xsl:call-template name="pages"/>
  </xsl:template>

  <xsl:template match="atom:entry">
    <xsl:variable name="media"
        select="(media:content[@medium='image' or starts-with(@type, 'image/')]
                 | media:group/media:content[@medium='image' or starts-with(@type, 'image/')]
                 | media:thumbnail)[1]"/>
    <xsl:variable name="enclosure"
        select="atom:link[@rel='enclosure' and starts-with(@type, 'image/')][1]"/>
    <xsl:variable name="date">
      <xsl:choose>
        <xsl:when test="atom:published"><xsl:value-of select="atom:published"/></xsl:when>
        <xsl:otherwise><xsl:value-of select="atom:updated"/></xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <article dir="auto">
      <xsl:if test="@xml:lang">
        <xsl:attribute name="lang"><xsl:value-of select="@xml:lang"/></xsl:attribute>
      </xsl:if>
      <h2 class="title">
        <xsl:call-template name="link">
          <xsl:with-param name="href"
              select="(atom:link[@rel='alternate'] | atom:link[not(@rel)])[1]/@href"/>
          <xsl:with-param name="text" select="atom:title"/>
        </xsl:call-template>
      </h2>
      <p class="meta">
        <xsl:if test="string($date)">
          <!-- 2026-11-19T11:00:00Z → 2026-11-19 11:00 (offset kept when not Z) -->
          <time class="date" datetime="{$date}">
            <xsl:value-of select="substring($date, 1, 10)"/>
            <xsl:text> </xsl:text>
            <xsl:value-of select="substring($date, 12, 5)"/>
            <xsl:choose>
              <xsl:when test="substring($date, string-length($date)) = 'Z'"> UTC</xsl:when>
              <xsl:otherwise>
                <xsl:text> </xsl:text>
                <xsl:value-of select="substring($date, string-length($date) - 5)"/>
              </xsl:otherwise>
            </xsl:choose>
          </time>
        </xsl:if>
        <xsl:for-each select="atom:author/atom:name">
          <xsl:text> · </xsl:text>
          <span class="author"><xsl:value-of select="."/></span>
        </xsl:for-each>
        <xsl:if test="normalize-space(atom:source/atom:title)">
          <xsl:text> · via </xsl:text>
          <span class="source"><xsl:value-of select="atom:source/atom:title"/></span>
        </xsl:if>
      </p>
      <xsl:choose>
        <xsl:when test="$media">
          <xsl:call-template name="figure">
            <xsl:with-param name="image" select="$media"/>
            <xsl:with-param name="src" select="$media/@url"/>
            <xsl:with-param name="caption"
                select="($media/media:description | $media/../media:description)[1]
                    | $media/media:title[not(../media:description or ../../media:description)]"/>
            <xsl:with-param name="credit"
                select="($media/media:credit | $media/../media:credit)[1]"/>
          </xsl:call-template>
        </xsl:when>
        <xsl:when test="$enclosure">
          <xsl:call-template name="figure">
            <xsl:with-param name="image" select="$enclosure"/>
            <xsl:with-param name="src" select="$enclosure/@href"/>
            <xsl:with-param name="caption" select="$enclosure/@title"/>
          </xsl:call-template>
        </xsl:when>
      </xsl:choose>
      <xsl:choose>
        <xsl:when test="normalize-space(atom:summary) and not(atom:summary/@type = 'xhtml')">
          <p class="summary"><xsl:value-of select="atom:summary"/></p>
        </xsl:when>
        <xsl:when test="normalize-space(atom:content) and (not(atom:content/@type)
                        or atom:content/@type = 'text')">
          <p class="summary"><xsl:value-of select="atom:content"/></p>
        </xsl:when>
      </xsl:choose>
    </article>
  </xsl:template>

  <!-- ================================================================ shared parts -->

  <!-- RFC 5005 navigation, for archive pages and the current document alike -->
  <xsl:template name="pages">
    <xsl:variable name="links" select="atom:link"/>
    <xsl:if test="$links[@rel='prev-archive' or @rel='next-archive' or @rel='current']">
      <nav class="pages" dir="ltr">
        <xsl:for-each select="$links[@rel='current']">
          <xsl:call-template name="link">
            <xsl:with-param name="href" select="@href"/>
            <xsl:with-param name="text" select="'Latest items'"/>
          </xsl:call-template>
        </xsl:for-each>
        <xsl:for-each select="$links[@rel='next-archive']">
          <xsl:call-template name="link">
            <xsl:with-param name="href" select="@href"/>
            <xsl:with-param name="text" select="'Newer items'"/>
          </xsl:call-template>
        </xsl:for-each>
        <xsl:for-each select="$links[@rel='prev-archive']">
          <xsl:call-template name="link">
            <xsl:with-param name="href" select="@href"/>
            <xsl:with-param name="text" select="'Older items'"/>
          </xsl:call-template>
        </xsl:for-each>
      </nav>
    </xsl:if>
  </xsl:template>

  <xsl:template name="figure">
    <xsl:param name="image"/>
    <xsl:param name="src"/>
    <xsl:param name="caption"/>
    <xsl:param name="credit"/>
    <xsl:if test="$image and (starts-with($src, 'https://') or starts-with($src, 'http://'))">
      <figure>
        <img src="{$src}" alt="{normalize-space($caption)}" loading="lazy">
          <xsl:if test="$image/@width and $image/@height">
            <xsl:attribute name="width"><xsl:value-of select="$image/@width"/></xsl:attribute>
            <xsl:attribute name="height"><xsl:value-of select="$image/@height"/></xsl:attribute>
          </xsl:if>
        </img>
        <xsl:if test="normalize-space($caption) or normalize-space($credit)">
          <figcaption>
            <xsl:if test="normalize-space($caption)">
              <span class="caption"><xsl:value-of select="normalize-space($caption)"/></span>
            </xsl:if>
            <xsl:if test="normalize-space($caption) and normalize-space($credit)">
              <xsl:text> </xsl:text>
            </xsl:if>
            <xsl:if test="normalize-space($credit)">
              <span class="credit"><xsl:value-of select="normalize-space($credit)"/></span>
            </xsl:if>
          </figcaption>
        </xsl:if>
      </figure>
    </xsl:if>
  </xsl:template>

  <!-- A link when href is http(s), plain text otherwise (never javascript: and the like). -->
  <xsl:template name="link">
    <xsl:param name="href"/>
    <xsl:param name="text"/>
    <xsl:variable name="url" select="normalize-space($href)"/>
    <xsl:choose>
      <xsl:when test="starts-with($url, 'https://') or starts-with($url, 'http://')
                      or (starts-with($url, '/') and not(starts-with($url, '//')))">
        <a href="{$url}"><xsl:value-of select="normalize-space($text)"/></a>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="normalize-space($text)"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

</xsl:stylesheet>
